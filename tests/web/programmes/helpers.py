"""URLs and form data shared by the programme tests."""

from __future__ import annotations

from django.urls import reverse

from cityeval.web.programmes.models import Programme

REGION_A = "kab-deli-serdang"
REGION_B = "kota-medan"


def url(name: str, region: str = REGION_A, **kwargs) -> str:
    return reverse(f"programmes:{name}", kwargs={"region": region, **kwargs})


def programme_url(name: str, programme: Programme, region: str = REGION_A, **kwargs) -> str:
    return url(name, region, programme=programme.public_id, **kwargs)


def programme_data(**changes) -> dict:
    """A valid programme form submission (owner: A's health office)."""
    data = {
        "name": "E-Padi", "dimension": "governance", "subdimension": "service", "owner": "dinkes",
        "status": "running", "start_year": "2023", "description": "Online regional tax",
        "beneficiaries": "1500", "is_quick_win": "on",
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
