"""Audit entries of the results' privileged actions: computing, publishing, and the
coordinator's copy of the cycle letter that carries every assessor's feedback."""

from __future__ import annotations

from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.jobs.models import Job
from tests.helpers.results import CYCLE


def test_computing_is_recorded(computed, coordinator):
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.region) == (Action.RESULTS_COMPUTE, coordinator, None)
    assert (entry.target_type, entry.target_id) == ("cycle", CYCLE)
    assert entry.details == {"stage": "stage_2", "run": str(computed.public_id), "regions": 2}


def test_publishing_is_recorded(published, coordinator):
    entry = AuditEntry.objects.get(action=Action.RESULTS_PUBLISH)
    assert (entry.user, entry.region, entry.target_id) == (coordinator, None, CYCLE)
    assert entry.details == {"transition": "publish", "from": "closed", "to": "published", "reason": ""}


def test_the_letter_with_every_assessor_s_feedback_is_recorded(published, as_user, coordinator):
    """The letter with feedback is made by a job: asking for it is what the trail records."""
    before = AuditEntry.objects.count()
    as_user(coordinator).get(f"/results/{CYCLE}/letter.pdf")  # without feedback: nothing to record
    assert AuditEntry.objects.count() == before
    response = as_user(coordinator).post(f"/results/{CYCLE}/letter/prepare/")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=Action.ASSESSOR_DATA_DOWNLOAD)
    job = Job.objects.get()
    assert (entry.user, entry.target_id, entry.details) == (
        coordinator,
        CYCLE,
        {"what": "cycle letter with feedback", "job": job.pk},
    )
