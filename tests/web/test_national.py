"""The national-size loader (``cityeval manage load_national``), run small."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import ItemScore, Panel, PanelMember, ScoreSubmission
from cityeval.web.results.models import RegionResult, ResultRun
from cityeval.web.surveys.models import Response, SurveyForm

pytestmark = pytest.mark.django_db


def test_load_national_small_counts():
    """20 regions, 2,000 responses. Expected by hand from the fixture's layout: regions 1 and 12
    (every eleventh from the first) are KPPN_IKN, 18 REGULER; gmsc-2024.yaml lists 111 items
    (5 baseline + 7 output + 33 outcome + 54 impact + 12 quick win), none group-specific,
    so 20 × 111 × 5 assessors = 11,100 first marks and 20 × 74 answers (two items in three
    of 111); panels of five regions → 4 panels of 5 assessors; split mode makes 18 forms per
    region (6 dimensions × 3 sub-dimensions) → 360 forms; the 2,000 responses are spread over
    them, 5 or 6 each."""
    out = StringIO()
    call_command("load_national", "--regions", "20", "--responses", "2000", stdout=out)
    cycle = Cycle.objects.get(slug="national-2024")
    assert cycle.status == Cycle.Status.OPEN
    groups = list(
        Participation.objects.filter(cycle=cycle).order_by("region__name").values_list("group", flat=True)
    )
    assert [i for i, g in enumerate(groups) if g == "KPPN_IKN"] == [0, 11]
    assert Panel.objects.filter(cycle=cycle).count() == 4
    assert PanelMember.objects.filter(panel__cycle=cycle).count() == 20
    assert ItemScore.objects.count() == 11_100
    assert ScoreSubmission.objects.count() == 20 * 5
    assert AnswerRevision.objects.count() == 20 * 74
    assert SurveyForm.objects.count() == 360
    assert Response.objects.count() == 2000
    per_form = sorted(SurveyForm.objects.values_list("pk", flat=True))
    sizes = {Response.objects.filter(form_id=pk).count() for pk in per_form}
    assert sizes == {5, 6}
    run = ResultRun.objects.get(cycle=cycle, is_current=True)
    assert RegionResult.objects.filter(run=run).count() == 20
    assert "done: 20 regions, 4 panels, 11,100 marks" in out.getvalue()


def test_load_national_refuses_a_second_load():
    """The cycle exists: a second load would duplicate regions, so it is refused with a reason."""
    call_command("load_national", "--regions", "5", "--responses", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="loaded already"):
        call_command("load_national", "--regions", "5", "--responses", "0", stdout=StringIO())
    assert Cycle.objects.filter(slug="national-2024").count() == 1
