"""Old finished jobs are deleted with the files only they hold (``jobs.retention``): by the
worker once a day, or by ``cityeval manage prune_jobs``.

Retention here: JOBS_KEEP_DAYS=30, JOBS_SCHEDULED_KEEP_DAYS=7 (the defaults). A job finished
31 days ago is due, one finished 29 days ago is not; a notices job finished 8 days ago is due,
one finished 6 days ago is not. Files are written through the project's storage (MEDIA_ROOT
under the test's tmp_path, tests/web/conftest.py) and checked there.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from cityeval.web.audit.models import AuditEntry
from cityeval.web.jobs import retention
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_enqueue_upload, job_run, job_schedule
from cityeval.web.jobs.worker import PRUNE_EVERY_SECONDS, run_worker

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
DONE, FAILED, QUEUED, RUNNING = Job.Status.DONE, Job.Status.FAILED, Job.Status.QUEUED, Job.Status.RUNNING


@pytest.fixture(autouse=True)
def kept_as_by_default(settings):
    settings.JOBS_KEEP_DAYS = 30
    settings.JOBS_SCHEDULED_KEEP_DAYS = 7


@pytest.fixture
def in_test_worker(monkeypatch):
    """The worker closes stale database connections between tasks; inside a test's transaction
    that would close the test database, so here it does nothing (as in test_notices_job)."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def _stored(name: str) -> str:
    return default_storage.save(name, ContentFile(b"content of " + name.encode()))


def _job(
    key: str, status: str, *, days_ago: float | None, kind: str = Job.Kind.NATIONAL_EXPORT, **fields
) -> Job:
    finished = timezone.now() - days_ago * DAY if days_ago is not None else None
    return Job.objects.create(kind=kind, key=key, status=status, finished_at=finished, **fields)


def _left() -> set[str]:
    return set(Job.objects.values_list("key", flat=True))


def _exists(*names: str) -> list[bool]:
    return [default_storage.exists(name) for name in names]


@pytest.fixture
def jobs():
    """Old and recent jobs of each state; returns the stored files by the key of their job."""
    files = {
        "old-export": _stored("jobs/1/national.xlsx"),
        "recent-export": _stored("jobs/2/national.xlsx"),
        "old-failed-import": _stored("imports/surveys/1/abc-old.csv"),
        "recent-failed-import": _stored("imports/surveys/1/abc-recent.csv"),
    }
    _job("old-export", DONE, days_ago=31, file_name=files["old-export"], download_name="national.xlsx")
    _job("recent-export", DONE, days_ago=29, file_name=files["recent-export"], download_name="national.xlsx")
    _job("old-failed-import", FAILED, days_ago=31, kind=Job.Kind.SURVEY_IMPORT,
         params={"file": files["old-failed-import"]})  # fmt: skip
    _job("recent-failed-import", FAILED, days_ago=29, kind=Job.Kind.SURVEY_IMPORT,
         params={"file": files["recent-failed-import"]})  # fmt: skip
    _job("old-computation", DONE, days_ago=40, kind=Job.Kind.RESULTS_COMPUTE, result_text="12 regions")
    # A failed job retried keeps the time it failed: queued or running, it stays.
    _job("retried-queued", QUEUED, days_ago=60)
    _job("retried-running", RUNNING, days_ago=60)
    _job("never-finished", QUEUED, days_ago=None)
    _job("notices-8-days", DONE, days_ago=8, kind=Job.Kind.NOTICES_SEND)
    _job("notices-6-days", DONE, days_ago=6, kind=Job.Kind.NOTICES_SEND)
    _job("notices-failed-8-days", FAILED, days_ago=8, kind=Job.Kind.NOTICES_SEND)
    return files


KEPT = {"recent-export", "recent-failed-import", "retried-queued", "retried-running", "never-finished",
        "notices-6-days"}  # fmt: skip
GONE_FILES = ["old-export", "old-failed-import"]


def test_old_finished_jobs_go_with_their_files_and_the_others_stay(jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pruned = retention.jobs_prune()
    assert _left() == KEPT
    assert dict(pruned.kinds) == {
        "national_export": 1,
        "survey_import": 1,
        "results_compute": 1,
        "notices_send": 2,
    }
    assert sorted(pruned.files) == sorted(jobs[key] for key in GONE_FILES) and pruned.kept == []
    assert _exists(*(jobs[key] for key in GONE_FILES)) == [False, False]
    assert _exists(jobs["recent-export"], jobs["recent-failed-import"]) == [True, True]


def test_a_dry_run_deletes_nothing_and_says_what_would_go(jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pruned = retention.jobs_prune(dry_run=True)
    assert pruned.jobs == 5 and sorted(pruned.files) == sorted(jobs[key] for key in GONE_FILES)
    assert len(_left()) == 11 and all(_exists(*jobs.values())) and callbacks == []
    assert not AuditEntry.objects.exists()


def test_the_files_are_deleted_only_after_the_commit(jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retention.jobs_prune()
    assert _left() == KEPT  # the rows are deleted in the transaction,
    assert all(_exists(*jobs.values()))  # the files not yet
    for callback in callbacks:  # the commit
        callback()
    assert _exists(*(jobs[key] for key in GONE_FILES)) == [False, False]


def test_a_rollback_loses_no_job_and_no_file(jobs, monkeypatch, django_capture_on_commit_callbacks):
    """The batch's audit entry fails after its rows were deleted: the transaction rolls back, the
    jobs are all there and no file deletion runs."""

    def broken(**kwargs):
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(retention.audit, "record", broken)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        retention.jobs_prune()
    assert len(_left()) == 11 and callbacks == [] and all(_exists(*jobs.values()))


def test_a_file_another_job_still_names_is_kept(django_capture_on_commit_callbacks):
    shared = _stored("imports/regions/abc-regions.csv")
    _job("old", FAILED, days_ago=31, kind=Job.Kind.REGION_IMPORT, params={"file": shared})
    _job("recent", FAILED, days_ago=1, kind=Job.Kind.REGION_IMPORT, params={"file": shared})
    result = _stored("jobs/7/letter.pdf")
    _job("old-letter", DONE, days_ago=31, kind=Job.Kind.CYCLE_LETTER, file_name=result)
    _job("running-letter", RUNNING, days_ago=None, kind=Job.Kind.CYCLE_LETTER, file_name=result)
    with django_capture_on_commit_callbacks(execute=True):
        pruned = retention.jobs_prune()
    assert _left() == {"recent", "running-letter"} and pruned.jobs == 2
    assert pruned.files == [] and sorted(pruned.kept) == sorted([shared, result])
    assert _exists(shared, result) == [True, True]


def test_a_done_import_naming_a_failed_imports_upload_does_not_keep_it(django_capture_on_commit_callbacks):
    """The done import's own upload went when it was imported; the name it still holds in its
    params is the failed import's file now, and nothing needs it once that job goes."""
    shared = _stored("imports/surveys/abc-kobo.csv")
    _job("old-failed", FAILED, days_ago=31, kind=Job.Kind.SURVEY_IMPORT, params={"file": shared})
    _job("recent-done", DONE, days_ago=1, kind=Job.Kind.SURVEY_IMPORT, params={"file": shared})
    with django_capture_on_commit_callbacks(execute=True):
        pruned = retention.jobs_prune()
    assert _left() == {"recent-done"} and pruned.files == [shared] and pruned.kept == []
    assert _exists(shared) == [False]


def test_a_done_imports_upload_name_given_to_a_new_upload_stays(
    coordinator, django_capture_on_commit_callbacks
):
    """A done import's upload was deleted when imported; the same file uploaded again is stored
    under the same (free again) name before its job is written (``job_enqueue_upload``). A
    pruning in between deletes the old job, but not that file."""
    data = b"province,region\nAceh,Kota Sabang\n"
    first = job_enqueue_upload(
        user=coordinator, kind=Job.Kind.REGION_IMPORT, key="first", folder="imports/regions",
        data=data, digest="ab" * 32, file_name="regions.csv", params={},
    )  # fmt: skip
    default_storage.delete(first.params["file"])  # imported: job_upload_forget
    Job.objects.filter(pk=first.pk).update(status=DONE, finished_at=timezone.now() - 31 * DAY)
    again = default_storage.save(first.params["file"], ContentFile(data))  # the new upload, no job yet
    assert again == first.params["file"]
    with django_capture_on_commit_callbacks(execute=True):
        pruned = retention.jobs_prune()
    assert _left() == set() and pruned.jobs == 1 and pruned.files == []
    assert default_storage.open(again).read() == data


def test_each_batch_has_its_audit_entry_with_the_counts(
    jobs, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(retention, "BATCH", 2)
    with django_capture_on_commit_callbacks(execute=True):
        retention.jobs_prune()
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.action for e in entries] == ["jobs_prune"] * 3
    assert [(e.user_id, e.username, e.target_text) for e in entries] == [(None, "", "background jobs")] * 3
    # Due, by pk: old-export, old-failed-import | old-computation, notices-8-days | notices-failed-8-days.
    assert [e.details for e in entries] == [
        {"jobs": 2, "kinds": {"national_export": 1, "survey_import": 1}, "files": 2, "files_kept": 0,
         "keep_days": 30, "scheduled_keep_days": 7},
        {"jobs": 2, "kinds": {"notices_send": 1, "results_compute": 1}, "files": 0, "files_kept": 0,
         "keep_days": 30, "scheduled_keep_days": 7},
        {"jobs": 1, "kinds": {"notices_send": 1}, "files": 0, "files_kept": 0,
         "keep_days": 30, "scheduled_keep_days": 7},
    ]  # fmt: skip
    retention.jobs_prune()  # nothing left to delete: no entry
    assert AuditEntry.objects.count() == 3


def test_zero_keeps_the_jobs_concerned_for_ever(jobs, settings, django_capture_on_commit_callbacks):
    settings.JOBS_SCHEDULED_KEEP_DAYS = 0
    with django_capture_on_commit_callbacks(execute=True):
        assert dict(retention.jobs_prune().kinds) == {
            "national_export": 1,
            "survey_import": 1,
            "results_compute": 1,
        }
    settings.JOBS_KEEP_DAYS = 0
    _job("ancient-export", DONE, days_ago=400)
    assert retention.jobs_prune().jobs == 0 and "ancient-export" in _left()


def test_the_worker_queues_and_runs_the_deletion_once_a_day(
    jobs, in_test_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run_worker(batch=True)
    job = Job.objects.get(kind=Job.Kind.JOBS_PRUNE)
    day = int(timezone.now().timestamp()) // 86400 * 86400
    assert PRUNE_EVERY_SECONDS == 86400 and job.key == f"jobs_prune:{day}" and job.created_by is None
    assert (job.status, job.result_text) == (DONE, "Deleted 5 finished jobs and 2 stored files.")
    assert _left() == KEPT | {job.key}
    assert _exists(*(jobs[key] for key in GONE_FILES)) == [False, False]
    run_worker(batch=True)  # the same day: no second job
    assert Job.objects.filter(kind=Job.Kind.JOBS_PRUNE).count() == 1


def test_the_jobs_outcome_is_in_the_sites_language(jobs, settings, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "id"
    job = job_schedule(kind=Job.Kind.JOBS_PRUNE, every=PRUNE_EVERY_SECONDS)
    with django_capture_on_commit_callbacks(execute=True):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.result_text == "5 pekerjaan yang sudah selesai dan 2 berkas tersimpan dihapus."


def test_the_worker_queues_no_deletion_when_everything_is_kept(settings, in_test_worker):
    settings.JOBS_KEEP_DAYS = settings.JOBS_SCHEDULED_KEEP_DAYS = 0
    run_worker(batch=True)
    assert not Job.objects.exists()


def test_the_deletion_jobs_themselves_go_after_the_scheduled_period(django_capture_on_commit_callbacks):
    _job("jobs_prune:old", DONE, days_ago=8, kind=Job.Kind.JOBS_PRUNE)
    _job("jobs_prune:recent", DONE, days_ago=1, kind=Job.Kind.JOBS_PRUNE)
    with django_capture_on_commit_callbacks(execute=True):
        retention.jobs_prune()
    assert _left() == {"jobs_prune:recent"}


def test_the_command_lists_what_it_would_delete_then_deletes_it(jobs, django_capture_on_commit_callbacks):
    out = io.StringIO()
    call_command("prune_jobs", "--dry-run", stdout=out)
    listed = [
        "would delete: 5 jobs and 2 files (jobs finished more than 30 days ago, 7 for the worker's own; "
        "0: kept for ever)",
        "  jobs national_export: 1",
        "  jobs notices_send: 2",
        "  jobs results_compute: 1",
        "  jobs survey_import: 1",
        f"  file {jobs['old-failed-import']}",  # imports/… before jobs/…
        f"  file {jobs['old-export']}",
    ]
    assert out.getvalue().splitlines() == listed and len(_left()) == 11
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("prune_jobs", stdout=out)
    assert out.getvalue().splitlines() == [listed[0].replace("would delete", "deleted"), *listed[1:]]
    assert _left() == KEPT and _exists(jobs["old-export"]) == [False]


def test_a_deleted_jobs_page_is_gone_and_the_import_pages_still_open(
    world, coordinator, admin_a, as_user, django_capture_on_commit_callbacks
):
    own = _job("survey-import", FAILED, days_ago=31, kind=Job.Kind.SURVEY_IMPORT, created_by=admin_a,
               params={"region": world.region_a.pk, "form": 1})  # fmt: skip
    export = _job(
        "export", DONE, days_ago=31, file_name=_stored("jobs/9/items.csv"), download_name="items.csv"
    )
    region_import = _job("regions", FAILED, days_ago=31, kind=Job.Kind.REGION_IMPORT, created_by=coordinator)
    national, regional = as_user(coordinator), as_user(admin_a)
    assert regional.get(f"/jobs/{own.pk}/").status_code == 200
    assert national.get(f"/jobs/{export.pk}/download/").status_code == 200
    assert f"/jobs/{region_import.pk}/" in national.get("/regions/import/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.jobs_prune().jobs == 3
    for page in (f"/jobs/{own.pk}/", f"/jobs/{export.pk}/", f"/jobs/{export.pk}/download/"):
        assert national.get(page).status_code == 404
    # A regional admin gets 403 for any job they cannot open, one that no longer exists included.
    assert regional.get(f"/jobs/{own.pk}/").status_code == 403
    assert as_user(None).get(f"/jobs/{own.pk}/").status_code == 302  # to the log-in page
    page = national.get("/regions/import/")
    assert page.status_code == 200 and f"/jobs/{region_import.pk}/" not in page.content.decode()


def test_a_retry_of_a_job_deleted_meanwhile_is_404_not_an_error(world, coordinator, as_user, monkeypatch):
    """Try again pressed while the retention job deletes the job: the page's check found it, the
    retry's locked read does not."""
    from cityeval.web.jobs import views

    failed = _job("export", FAILED, days_ago=31)
    checked = views._job_for

    def checked_then_deleted(request, job_id):
        job = checked(request, job_id)
        Job.objects.filter(pk=job_id).delete()
        return job

    monkeypatch.setattr(views, "_job_for", checked_then_deleted)
    assert as_user(coordinator).post(f"/jobs/{failed.pk}/retry/").status_code == 404


def test_a_regions_file_imported_again_after_old_imports_went_is_a_new_job(
    settings, coordinator, as_user, django_capture_on_commit_callbacks
):
    """The region import's key names the imports done before it; deleting old ones must not
    make a new upload of the same file the earlier, done job (which would import nothing)."""
    settings.REGION_IMPORT_SYNC_MAX_KB = 0
    client = as_user(coordinator)
    data = b"province,region\nAceh,Kota Sabang\n"

    def imported() -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/regions/import/", {"file": SimpleUploadedFile("r.csv", data, "text/csv")}
            )
            job = Job.objects.get(pk=int(response["Location"].split("/")[2]))
            job_run(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == DONE
        return job

    first, second = imported(), imported()
    assert first.pk != second.pk and "1 new" in first.result_text and "0 new" in second.result_text
    Job.objects.filter(pk=first.pk).update(finished_at=timezone.now() - 31 * DAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.jobs_prune().jobs == 1
    third = imported()
    assert third.pk not in (first.pk, second.pk)
