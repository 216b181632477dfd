"""Computing a closed cycle's results as a background job: the coordinator asks on the national
page, the job (run here through ``job_run``, as the worker does) stores the same results as the
synchronous ``results_compute``, its page shows what it did and links to the national results;
a failure says why, in the asker's language, and can be retried; asking twice is one job and
one set of results; only the coordinator may ask for it or see its page.

Expected numbers from the fixtures (conftest): two regions, A's final 3.568 (A_FINAL), B's 2.6;
computing is one step (it writes in one transaction).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cityeval.engine import InputError
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.audit.models import AuditEntry
from cityeval.web.evaluations.models import Cycle
from cityeval.web.jobs import services as job_services
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import JobFile, job_recover_stale, job_run
from cityeval.web.results import services as results_services
from cityeval.web.results.jobs import NotCoordinator
from cityeval.web.results.models import RegionResult, ResultRun
from cityeval.web.results.services import results_compute
from tests.helpers.results import A_FINAL, B_FINAL, CYCLE, REGION_A, REGION_B
from tests.helpers.web import make_user

COMPUTE = f"/results/{CYCLE}/compute/"
NATIONAL = f"/results/{CYCLE}/"
OUTSIDERS = ["admin_a", "opd_a", "admin_b", "assessor", "panelist1", "nobody", None]


def _queue(client) -> Job:
    response = client.post(COMPUTE)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    return job


def _results(run: ResultRun) -> dict[str, tuple]:
    return {
        r.region.slug: (r.final, r.improvement, r.rank_national, r.rank_province, r.components, r.participant)
        for r in RegionResult.objects.filter(run=run).select_related("region")
    }


def test_the_job_computes_what_the_synchronous_compute_does(scored, history_2023, as_user, coordinator):
    client = as_user(coordinator)
    job = _queue(client)
    assert job.kind == "results_compute" and job.params["stage"] == "stage_2"
    assert not ResultRun.objects.filter(cycle=scored.cycle).exists()  # queued, nothing computed yet
    waiting = client.get(f"/jobs/{job.pk}/")
    assert b"Queued" in waiting.content and b'http-equiv="refresh"' in waiting.content

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent, job.file_name) == ("done", 1, 1, 100, "")
    by_job = ResultRun.objects.get(cycle=scored.cycle)
    assert by_job.is_current and by_job.computed_by == coordinator
    ours = _results(by_job)
    assert ours[REGION_A][0] == pytest.approx(A_FINAL, abs=1e-12)
    assert ours[REGION_B][0] == pytest.approx(B_FINAL, abs=1e-12)
    pinned = scored.cycle.framework.digest[:12]
    page = client.get(f"/jobs/{job.pk}/")
    content = page.content.decode()
    assert f"Results computed for 2 regions with framework {pinned}." in content
    assert f'href="{NATIONAL}" id="job-result-link"' in content and 'http-equiv="refresh"' not in content
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # nothing to download

    direct = results_compute(cycle=scored.cycle, user=coordinator)
    assert direct.pk != by_job.pk and _results(direct) == ours
    assert direct.parameters == by_job.parameters and direct.framework_digest == by_job.framework_digest


def test_asking_twice_while_it_waits_is_one_job_and_one_set_of_results(scored, as_user, coordinator):
    client = as_user(coordinator)
    first = _queue(client)
    assert client.post(COMPUTE)["Location"] == f"/jobs/{first.pk}/"
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1
    job_run(job_id=first.pk)
    job_run(job_id=first.pk)  # a late duplicate of the task changes nothing
    assert ResultRun.objects.filter(cycle=scored.cycle).count() == 1
    first.refresh_from_db()
    assert first.attempts == 1

    again = _queue(client)  # done: asking again computes again, as the button always did
    assert again.pk != first.pk
    job_run(job_id=again.pk)
    runs = ResultRun.objects.filter(cycle=scored.cycle)
    assert runs.count() == 2 and runs.filter(is_current=True).count() == 1


def test_a_run_that_finds_the_job_finished_elsewhere_keeps_nothing(scored, as_user, coordinator, monkeypatch):
    """Another run of the same job finished while this one computed: this run's results are
    rolled back with the transaction, so the cycle has no second set."""
    job = _queue(as_user(coordinator))
    real = results_services.results_compute

    def finished_meanwhile(**kwargs):
        run = real(**kwargs)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
        return run

    monkeypatch.setattr("cityeval.web.results.jobs.results_compute", finished_meanwhile)
    job_run(job_id=job.pk)
    assert not ResultRun.objects.filter(cycle=scored.cycle).exists()


def test_a_compute_whose_worker_died_runs_again_and_stores_one_set(scored, as_user, coordinator):
    job = _queue(as_user(coordinator))
    DBTaskResult.objects.get().claim("killed-worker")
    stale = timezone.now() - timedelta(seconds=600)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, total=1, heartbeat_at=stale)
    assert job_recover_stale(stale_after=300) == 1
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.total) == ("done", 2, 1, 1)
    assert ResultRun.objects.filter(cycle=scored.cycle).count() == 1


def test_a_failure_says_why_in_the_askers_language_and_can_be_retried(scored, as_user, coordinator, settings):
    """The cycle is reopened before the worker runs the job: it fails with the cycle's reason,
    in Indonesian as it was asked; closed again, the retry computes."""
    settings.LANGUAGE_CODE = "id"  # the coordinator reads Indonesian pages
    client = as_user(coordinator)
    job = _queue(client)
    assert job.params["language"] == "id"
    Cycle.objects.filter(pk=scored.cycle.pk).update(status=Cycle.Status.OPEN)
    with pytest.raises(Exception, match="tutup siklus sebelum menghitung hasil"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("Status siklus adalah ")
    assert not ResultRun.objects.exists()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert job.error in page and 'id="job-retry"' in page and 'id="job-outcome"' not in page

    Cycle.objects.filter(pk=scored.cycle.pk).update(status=Cycle.Status.CLOSED)
    assert client.post(f"/jobs/{job.pk}/retry/")["Location"] == f"/jobs/{job.pk}/"
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("done", "", 2)
    assert job.result_text.startswith("Hasil dihitung untuk 2 daerah")
    assert ResultRun.objects.filter(cycle=scored.cycle).count() == 1


def test_an_engine_error_is_shown_translated(scored, as_user, coordinator, monkeypatch, settings):
    """The engine refuses the scores (an error with a code): the job page says it as the
    synchronous compute does, translated by ``web.engine_errors``."""

    def bad(*args, **kwargs):
        raise InputError("'x' is not a number", row=4, code="not_a_number", params={"value": "x"})

    monkeypatch.setattr(results_services, "score_items", bad)
    settings.LANGUAGE_CODE = "id"
    job = _queue(as_user(coordinator))
    settings.LANGUAGE_CODE = "en"  # the worker's own language does not matter: the job's does
    with pytest.raises(results_services.ResultsRefused):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.error == "Skor tidak dapat dihitung: baris 4: 'x' bukan angka"


def test_an_open_cycle_is_refused_on_the_page_and_nothing_is_queued(world, as_user, coordinator):
    response = as_user(coordinator).post(COMPUTE)
    assert response.status_code == 302 and response["Location"] == NATIONAL
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_cannot_queue_a_compute_or_see_its_job(scored, as_user, coordinator, persona, name):
    job = _queue(as_user(coordinator))
    job_run(job_id=job.pk)
    client = as_user(persona(name))
    expected = 302 if name is None else 403  # anonymous: the log-in page
    for response in (
        client.post(COMPUTE),
        client.get(f"/jobs/{job.pk}/"),
        client.post(f"/jobs/{job.pk}/retry/"),
        client.get(f"/jobs/{job.pk}/download/"),
    ):
        assert response.status_code == expected
        if name is None:
            assert response["Location"].startswith("/accounts/login/")
    assert Job.objects.count() == 1 and ResultRun.objects.count() == 1


def test_a_job_whose_asker_lost_the_role_runs_for_the_next_coordinator_who_asks(scored, as_user, coordinator):
    """X asks and leaves before the worker runs it: the job fails; Y asking (or retrying) must
    compute, as Y, not fail again on X's lost role."""
    job = _queue(as_user(coordinator))
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).update(active=False)
    with pytest.raises(NotCoordinator):
        job_run(job_id=job.pk)
    other = make_user("coordinator2", Role.COORDINATOR)
    again = _queue(as_user(other))
    assert again.pk == job.pk and again.created_by == other
    job_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == Job.Status.DONE
    run = ResultRun.objects.get(cycle=scored.cycle)
    assert run.computed_by == other


def test_the_compute_audit_entry_keeps_the_askers_network(scored, as_user, coordinator):
    """Computed by the worker, the entry still says where the request came from (the test
    client's 127.0.0.1, kept as its /24 network) and its request id."""
    job = _queue(as_user(coordinator))
    job_run(job_id=job.pk)
    entry = AuditEntry.objects.get(action="results_compute")
    assert entry.network == "127.0.0.0/24" and entry.user == coordinator


def _slow_then_failing(job, progress):
    """The first run of a job: so slow that it is taken for dead and run again to the end by
    another worker, then it fails late (a storage error, say). Later runs make a small file."""
    if job.attempts == 1:
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
        assert job_recover_stale(stale_after=300) == 1
        job_run(job_id=job.pk)  # the other worker's run, start to finish
        raise RuntimeError("the first run fails late")
    return JobFile(b"a,b\n", "national.csv")


def test_a_run_that_fails_after_another_run_finished_leaves_the_job_done(
    computed, as_user, coordinator, monkeypatch
):
    monkeypatch.setitem(job_services.RUNNERS, Job.Kind.NATIONAL_EXPORT, f"{__name__}._slow_then_failing")
    as_user(coordinator).post(f"/results/{CYCLE}/national.csv/prepare/")
    job = Job.objects.latest("pk")
    with pytest.raises(RuntimeError):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (Job.Status.DONE, 2, "")
    page = as_user(coordinator).get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="job-failed"' not in page and f"/jobs/{job.pk}/download/" in page
