"""The demo's survey forms all name the service they ask about (issue 11, item 8): a form whose
sub-dimension has no programme is never opened, so the demo gives each of the framework's 18
sub-dimensions a programme owned by a Deli Serdang OPD. The open 2025 cycle carries the forms a
visitor can answer; the published 2024 cycle's forms keep their responses and name their services."""

from __future__ import annotations

from cityeval.web.demo import load_demo
from cityeval.web.evaluations.models import Cycle
from cityeval.web.surveys.models import SurveyForm
from cityeval.web.surveys.readiness import unnamed_subdimensions
from cityeval.web.surveys.services import form_accepts_responses


def test_every_form_of_the_demos_open_cycle_accepts_responses_and_names_its_service(db):
    load_demo()
    open_cycles = Cycle.objects.filter(status=Cycle.Status.OPEN)
    assert [c.slug for c in open_cycles] == ["gmsc-2025"]
    forms = list(SurveyForm.objects.filter(plan__participation__cycle__in=open_cycles))
    # Split mode: one form per sub-dimension of gmsc-2024 (6 dimensions × 3 sub-dimensions).
    assert len(forms) == 18
    assert [f.code for f in forms if not form_accepts_responses(f)] == []
    named = {e.subdimension: e.programme for e in forms[0].plan.entries.select_related("programme__owner")}
    assert all(p is not None and p.owner.region.slug == "kab-deli-serdang" for p in named.values())


def test_every_form_of_the_published_demo_cycle_names_its_service(db):
    load_demo()
    forms = SurveyForm.objects.filter(plan__participation__cycle__slug="gmsc-2024")
    assert forms.count() == 18
    assert {f.code: unnamed_subdimensions(f) for f in forms if unnamed_subdimensions(f)} == {}
    assert all(f.is_open for f in forms)  # closed only because the cycle is published
