"""The column bounds services check before saving (cityeval.web.bounds)."""

from __future__ import annotations

import pytest

from cityeval.web.bounds import max_length
from cityeval.web.programmes.models import Risk
from cityeval.web.regions.models import Region


def test_max_length_reads_the_declared_length_of_a_text_column():
    """Expected values as declared in the models: Region.slug max_length=140, Risk.owner 200."""
    assert max_length(Region, "slug") == 140
    assert max_length(Risk, "owner") == 200


def test_max_length_of_a_column_without_one_is_a_programming_error():
    with pytest.raises(TypeError, match=r"Region\.province has no max_length"):
        max_length(Region, "province")
