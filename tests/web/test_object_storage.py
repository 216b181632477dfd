"""Stored files in an S3-compatible bucket (STORAGE_BACKEND=s3): evidence, KKPD receipts, job
outputs and the readiness probe, against a real S3 server (moto's server mode, started on
127.0.0.1 for the session) through the same views as with local files.

Each test gets an empty bucket of its own and STORAGES["default"] pointing at it, as the
settings build it for STORAGE_BACKEND=s3 (with the prefix ``cityeval/``); Django's
``setting_changed`` handler drops the cached storage, so ``default_storage`` and every FileField
use the bucket. What the bucket holds is read with boto3 directly, not through the app.

Without moto these tests skip, saying why, unless CITYEVAL_REQUIRE_ALL=1 (as in ``.ci/run``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from cityeval.web.assessments.models import Evidence, EvidenceBlob, ItemAssignment
from cityeval.web.jobs import services as job_services
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_enqueue, job_run
from cityeval.web.kkpd.models import Receipt, Transaction
from cityeval.web.kkpd.services import statement_import
from cityeval.web.ops.backup import BackupError, backup_create
from cityeval.web.storage import ObjectStorage, object_storage_options
from tests.helpers.kkpd import AS_OF, STATEMENT
from tests.helpers.kkpd import upload as kkpd_upload
from tests.helpers.object_storage import (
    ACCESS_KEY,
    JOB_FILE,
    REGION,
    SECRET_KEY,
    missing_reason,
    moto_server,
    require_all,
    s3_client,
)
from tests.web.assessments.helpers import CYCLE, LEVEL_ITEM, REGION_A, pdf_bytes

PREFIX = "cityeval"
OTHER_ITEM = "baseline.council_meeting"


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    reason = missing_reason()
    if reason:
        if require_all():
            pytest.fail(f"{reason}, and CITYEVAL_REQUIRE_ALL=1 requires the object storage tests")
        pytest.skip(reason)
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


class Bucket:
    """A fresh bucket and a way to read it without the app."""

    def __init__(self, endpoint: str):
        self.client = s3_client(endpoint)
        self.name = f"cityeval-test-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=self.name)

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return sorted(entry["Key"] for entry in listed)

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


@pytest.fixture
def bucket(s3_endpoint, settings):
    """An empty bucket of this test's own, and the default storage pointing at it."""
    made = Bucket(s3_endpoint)
    options = object_storage_options(
        bucket=made.name, endpoint_url=s3_endpoint, region=REGION, prefix=PREFIX, addressing_style="path"
    )
    options.update(access_key=ACCESS_KEY, secret_key=SECRET_KEY)  # in production: boto3's own variables
    default = {"BACKEND": "cityeval.web.storage.ObjectStorage", "OPTIONS": options}
    with override_settings(STORAGES={**django_settings.STORAGES, "default": default}):
        yield made
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*")), "a file went to MEDIA_ROOT"


def _post_evidence(client, data: bytes, name: str = "laporan.pdf", item: str = LEVEL_ITEM):
    url = reverse("assessments:evidence_add", kwargs={"region": REGION_A, "cycle": CYCLE, "item": item})
    return client.post(url, {"kind": "file", "file": SimpleUploadedFile(name, data)})


def _evidence_key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{PREFIX}/evidence/{digest[:2]}/{digest}"


def test_the_default_storage_is_the_bucket(bucket):
    name = default_storage.save("probe/hello.txt", ContentFile(b"hello"))
    assert isinstance(default_storage._wrapped, ObjectStorage)
    assert bucket.keys() == [f"{PREFIX}/probe/hello.txt"] and bucket.read(f"{PREFIX}/{name}") == b"hello"


def test_evidence_is_uploaded_to_the_bucket_and_downloaded_through_the_view(
    world, bucket, as_user, admin_a, opd_a
):
    data = pdf_bytes("on object storage")
    assert _post_evidence(as_user(admin_a), data, "SK Tim.pdf").status_code == 302
    evidence = Evidence.objects.select_related("blob").get()
    assert bucket.keys() == [_evidence_key(data)]
    assert bucket.read(_evidence_key(data)) == data
    for reader in (admin_a, opd_a):
        response = as_user(reader).get(f"/evidence/{evidence.public_id}/")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == data
        assert response["Content-Type"] == "application/pdf"
        assert (
            response["Content-Disposition"].startswith("attachment")
            and "SK Tim.pdf" in response["Content-Disposition"]
        )


def test_outsiders_cannot_download_evidence_from_the_bucket(world, bucket, as_user, admin_a, admin_b, nobody):
    _post_evidence(as_user(admin_a), pdf_bytes("private"))
    url = f"/evidence/{Evidence.objects.get().public_id}/"
    assert as_user(admin_b).get(url).status_code == 404
    assert as_user(nobody).get(url).status_code == 404
    anonymous = as_user(None).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_objects_are_not_public(world, bucket, as_user, admin_a):
    """No ACL grants anyone but the owner: the bucket's private default is kept."""
    data = pdf_bytes("acl")
    _post_evidence(as_user(admin_a), data)
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=_evidence_key(data))["Grants"]
    assert [g["Grantee"].get("URI") for g in grants if g["Grantee"].get("URI")] == []


def test_the_same_file_twice_is_one_object_used_by_both_rows(world, bucket, as_user, admin_a, opd_a):
    ItemAssignment.objects.create(
        participation=world.participation_a, item=OTHER_ITEM, opd=world.opd_health, assigned_by=admin_a
    )
    data = pdf_bytes("same")
    _post_evidence(as_user(admin_a), data, "laporan.pdf")
    first = bucket.client.head_object(Bucket=bucket.name, Key=_evidence_key(data))
    _post_evidence(as_user(opd_a), data, "copy of laporan.pdf", item=OTHER_ITEM)
    assert bucket.keys() == [_evidence_key(data)]
    assert (EvidenceBlob.objects.count(), Evidence.objects.count()) == (1, 2)
    names = {e.blob.file.name for e in Evidence.objects.select_related("blob")}
    assert names == {_evidence_key(data).removeprefix(f"{PREFIX}/")}
    again = bucket.client.head_object(Bucket=bucket.name, Key=_evidence_key(data))
    assert (again["ETag"], again["LastModified"]) == (first["ETag"], first["LastModified"])  # not rewritten


def test_a_different_file_with_the_same_name_is_a_second_object_and_the_first_is_unchanged(
    world, bucket, as_user, admin_a
):
    one, two = pdf_bytes("first version"), pdf_bytes("second version")
    _post_evidence(as_user(admin_a), one, "laporan.pdf")
    _post_evidence(as_user(admin_a), two, "laporan.pdf")
    assert bucket.keys() == sorted([_evidence_key(one), _evidence_key(two)])
    assert hashlib.sha256(bucket.read(_evidence_key(one))).hexdigest() == hashlib.sha256(one).hexdigest()
    assert hashlib.sha256(bucket.read(_evidence_key(two))).hexdigest() == hashlib.sha256(two).hexdigest()


def test_an_object_already_at_the_hash_s_name_is_never_overwritten(world, bucket, as_user, admin_a):
    """An object under the name with no row (a racing upload not yet committed, or one whose
    transaction was rolled back): the upload takes another name and leaves it as it was."""
    data = pdf_bytes("raced")
    squatter = b"written by someone else first"
    bucket.client.put_object(Bucket=bucket.name, Key=_evidence_key(data), Body=squatter)
    assert _post_evidence(as_user(admin_a), data).status_code == 302
    blob = EvidenceBlob.objects.get()
    assert blob.file.name != _evidence_key(data).removeprefix(f"{PREFIX}/")
    assert bucket.read(_evidence_key(data)) == squatter
    assert bucket.read(f"{PREFIX}/{blob.file.name}") == data
    response = as_user(admin_a).get(f"/evidence/{Evidence.objects.get().public_id}/")
    assert b"".join(response.streaming_content) == data


def test_two_uploads_of_the_same_bytes_racing_leave_the_winner_s_object_in_place(
    world, bucket, as_user, admin_a, monkeypatch
):
    """Another request stores the same bytes and commits its row between this upload's look-up
    and its own write: this upload's object gets another name and is dropped, the winner's
    object stays (without the conditional write both would share a name, and dropping the
    loser's copy would delete the winner's file)."""
    data = pdf_bytes("raced twice")
    digest = hashlib.sha256(data).hexdigest()
    original = ObjectStorage._save

    def racing(self, name, content):
        if not EvidenceBlob.objects.exists():  # the other request, just before this write
            stored = original(self, name, ContentFile(data))
            EvidenceBlob.objects.create(
                sha256=digest, file=stored, size=len(data), content_type="application/pdf"
            )
        return original(self, name, content)

    monkeypatch.setattr(ObjectStorage, "_save", racing)
    assert _post_evidence(as_user(admin_a), data).status_code == 302
    assert bucket.keys() == [_evidence_key(data)] and bucket.read(_evidence_key(data)) == data
    evidence = Evidence.objects.select_related("blob").get()
    assert evidence.blob.file.name == _evidence_key(data).removeprefix(f"{PREFIX}/")


def test_an_unreachable_bucket_is_a_clear_503_and_nothing_is_saved(world, bucket, as_user, admin_a):
    """The server refuses the write (here: the bucket is gone): the uploader reads why, as when
    a local folder is not writable, and no row points at a missing object."""
    bucket.client.delete_bucket(Bucket=bucket.name)
    response = _post_evidence(as_user(admin_a), pdf_bytes("nowhere"))
    assert response.status_code == 503
    assert (
        b"The server could not store the file" in response.content
        and b"Nothing was saved" in response.content
    )
    assert (EvidenceBlob.objects.count(), Evidence.objects.count()) == (0, 0)
    bucket.client.create_bucket(Bucket=bucket.name)
    assert _post_evidence(as_user(admin_a), pdf_bytes("nowhere")).status_code == 302


def test_a_large_upload_goes_to_the_bucket_whole(world, bucket, as_user, admin_a, settings):
    """Over FILE_UPLOAD_MAX_MEMORY_SIZE the upload is a temporary file on disk: streamed up."""
    data = pdf_bytes("x" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024))
    assert _post_evidence(as_user(admin_a), data).status_code == 302
    assert bucket.read(_evidence_key(data)) == data


def test_a_write_that_lost_the_race_after_its_existence_check_takes_a_new_name(bucket):
    """The S3 backend checks a name then uploads; between the two another writer may store it.
    The upload itself is conditional, so the later writer gets a new name, not the object."""
    default_storage.save("evidence/race", ContentFile(b"winner"))
    storage = default_storage._wrapped
    stored = storage._save("evidence/race", ContentFile(b"loser"))  # as if exists() had said no
    assert stored != "evidence/race" and stored.startswith("evidence/race_")
    assert bucket.read(f"{PREFIX}/evidence/race") == b"winner"
    assert bucket.read(f"{PREFIX}/{stored}") == b"loser"


def test_a_job_s_output_is_stored_in_the_bucket_and_downloaded(
    world, bucket, as_user, coordinator, admin_a, monkeypatch
):
    monkeypatch.setitem(job_services.RUNNERS, Job.Kind.CYCLE_LETTER, "tests.helpers.object_storage.tiny_job")
    job = job_enqueue(user=coordinator, kind=Job.Kind.CYCLE_LETTER, key="s3-job", params={})
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.file_name) == (Job.Status.DONE, f"jobs/{job.pk}/tiny-letter.pdf")
    assert bucket.keys() == [f"{PREFIX}/jobs/{job.pk}/tiny-letter.pdf"]
    assert bucket.read(f"{PREFIX}/{job.file_name}") == JOB_FILE
    response = as_user(coordinator).get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == JOB_FILE
    assert response["Content-Disposition"].startswith("attachment")
    assert as_user(admin_a).get(f"/jobs/{job.pk}/download/").status_code == 403


def test_a_job_run_again_keeps_the_first_file_and_stores_its_own_beside_it(
    world, bucket, coordinator, monkeypatch
):
    """A run killed while uploading may have left an object under the job's name, never recorded:
    the next run does not write over it and records its own."""
    monkeypatch.setitem(job_services.RUNNERS, Job.Kind.CYCLE_LETTER, "tests.helpers.object_storage.tiny_job")
    job = job_enqueue(user=coordinator, kind=Job.Kind.CYCLE_LETTER, key="s3-job-2", params={})
    left = f"{PREFIX}/jobs/{job.pk}/tiny-letter.pdf"
    bucket.client.put_object(Bucket=bucket.name, Key=left, Body=b"partial")
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.file_name != f"jobs/{job.pk}/tiny-letter.pdf"
    assert bucket.read(left) == b"partial" and bucket.read(f"{PREFIX}/{job.file_name}") == JOB_FILE


def test_a_kkpd_receipt_is_stored_in_the_bucket_and_downloaded(
    world, bucket, kkpd, kkpd_admin, holder, admin_b, as_user
):
    statement_import(
        region=world.region_a, bank=kkpd, upload=kkpd_upload(STATEMENT), user=kkpd_admin, as_of=AS_OF
    )
    r1 = Transaction.objects.get(reference="R1")
    kwargs = {"region": REGION_A, "transaction": r1.public_id}
    data = pdf_bytes("receipt")
    response = as_user(holder).post(
        reverse("kkpd:receipt_upload", kwargs=kwargs), {"file": SimpleUploadedFile("spj.pdf", data)}
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    digest = hashlib.sha256(data).hexdigest()
    assert bucket.keys() == [f"{PREFIX}/kkpd/{digest[:2]}/{digest}"]
    download = reverse("kkpd:receipt_download", kwargs={**kwargs, "receipt": receipt.public_id})
    got = as_user(holder).get(download)
    assert got.status_code == 200 and b"".join(got.streaming_content) == data
    assert as_user(admin_b).get(download).status_code == 404  # another region: no KKPD access there


def test_readyz_writes_and_deletes_its_probe_in_the_bucket(db, bucket, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["storage"] == {"ok": True, "required": True}
    assert bucket.keys() == []


def test_readyz_is_503_when_the_bucket_is_missing(db, bucket, client):
    bucket.client.delete_bucket(Bucket=bucket.name)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == {"ok": False, "detail": "not writable", "required": True}
    bucket.client.create_bucket(Bucket=bucket.name)  # for the fixture's own end


def test_backup_refuses_object_storage_and_says_what_to_do(db, bucket, tmp_path):
    with pytest.raises(BackupError, match="back up the bucket with the storage provider's own tools"):
        backup_create(target=tmp_path / "backup")


FROM_ENVIRONMENT = """
import django
django.setup()
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
print(default_storage.save("from-env/hello.txt", ContentFile(b"configured by the environment")))
print(",".join(sorted(settings.STORAGES["default"]["OPTIONS"])))
"""


def _settings_env(tmp_path, **values: str) -> dict[str, str]:
    kept = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CITYEVAL_", "AWS_", "S3_"))
    }
    return (
        kept
        | {"DJANGO_SETTINGS_MODULE": "cityeval.web.settings", "CITYEVAL_DATA_DIR": str(tmp_path)}
        | values
    )


def test_the_environment_selects_the_bucket_and_boto3_reads_the_credentials(bucket, s3_endpoint, tmp_path):
    env = _settings_env(
        tmp_path,
        STORAGE_BACKEND="s3",
        S3_BUCKET=bucket.name,
        S3_ENDPOINT_URL=s3_endpoint,
        S3_REGION=REGION,
        S3_PREFIX="site-files/",
        S3_ADDRESSING_STYLE="path",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    done = subprocess.run(
        [sys.executable, "-c", FROM_ENVIRONMENT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    name, options = done.stdout.split()
    assert name == "from-env/hello.txt"
    assert bucket.read("site-files/from-env/hello.txt") == b"configured by the environment"
    assert not {"access_key", "secret_key"} & set(options.split(","))  # no secret in the settings
    assert not any(tmp_path.rglob("hello.txt"))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND is s3 but S3_BUCKET is not set"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be local or s3, not 'ftp'"),
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "b", "S3_ADDRESSING_STYLE": "dns"}, "must be auto, path or"),
        # Not storage, but refused the same way (review): an hour that never comes sent no digest.
        ({"NOTICE_DIGEST_HOUR": "24"}, "NOTICE_DIGEST_HOUR must be an hour from 0 to 23, not 24"),
    ],
)
def test_an_incomplete_storage_setting_stops_the_start_with_a_reason(tmp_path, values, message):
    script = "import django; django.setup()"
    done = subprocess.run(
        [sys.executable, "-c", script], env=_settings_env(tmp_path, **values), capture_output=True, text=True
    )
    assert done.returncode != 0 and message in done.stderr
