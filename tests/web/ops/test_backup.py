"""cityeval backup / restore: a round trip gives back the same national results and evidence.

The expected values are the site's own answers taken before the backup (the national CSV
export's bytes, the stored results, each evidence file's SHA-256 computed here with hashlib):
after backup → wipe → restore they must be identical. The round trip runs on SQLite in the
first test pass and on PostgreSQL (pg_dump/pg_restore) in the PostgreSQL pass of `make test`.
These tests commit data (transactional_db): the dump tools only see committed rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from cityeval.cli import main
from cityeval.web.assessments.models import EvidenceBlob
from cityeval.web.demo import load_demo
from cityeval.web.ops.backup import BackupError, backup_create, backup_restore
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.models import RegionResult

EVIDENCE = {b"%PDF-1.4 evidence one\n%%EOF\n", b"\x89PNG\r\n\x1a\n evidence two"}


@pytest.fixture
def site(transactional_db):
    """The web demo (a published national cycle) plus two stored evidence files."""
    load_demo()
    _store_evidence()


@pytest.fixture
def small_site(transactional_db):
    """One region and the two evidence files: enough for the checks that refuse a restore."""
    province = Province.objects.create(name="Sumatera Utara")
    Region.objects.create(name="Kota Medan", slug="kota-medan", kind="kota", province=province)
    _store_evidence()


def _store_evidence() -> None:
    for content in EVIDENCE:
        sha = hashlib.sha256(content).hexdigest()
        blob = EvidenceBlob(sha256=sha, size=len(content), content_type="application/octet-stream")
        blob.file.save(sha, ContentFile(content), save=True)


def _national_csv() -> bytes:
    client = Client()
    client.force_login(get_user_model().objects.get(username="koordinator"))
    response = client.get(reverse("results:national_export", kwargs={"cycle": "gmsc-2024", "fmt": "csv"}))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def _state() -> tuple[bytes, list, dict[str, str]]:
    results = list(
        RegionResult.objects.order_by("run__cycle__slug", "region__slug").values_list(
            "run__cycle__slug", "region__slug", "final", "rank_national", "components"
        )
    )
    evidence = {}
    for blob in EvidenceBlob.objects.all():
        with blob.file.open("rb") as f:
            evidence[blob.sha256] = hashlib.sha256(f.read()).hexdigest()
    return _national_csv(), results, evidence


def _wipe(settings) -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)


def _round_trip(tmp_path: Path, settings) -> dict:
    before = _state()
    assert len(before[1]) > 10 and len(before[2]) == 2
    assert set(before[2]) == {hashlib.sha256(c).hexdigest() for c in EVIDENCE}
    assert before[2] == {sha: sha for sha in before[2]}  # each file's bytes hash to its name
    manifest = backup_create(target=tmp_path / "backup")
    _wipe(settings)
    assert not RegionResult.objects.exists() and not EvidenceBlob.objects.exists()

    restored = backup_restore(source=tmp_path / "backup")
    assert restored.files == 2
    assert _state() == before
    return manifest


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite pass runs this")
def test_backup_wipe_restore_gives_the_same_results_and_evidence_on_sqlite(site, tmp_path, settings):
    manifest = _round_trip(tmp_path, settings)
    assert manifest["database"]["vendor"] == "sqlite" and manifest["database"]["file"] == "database.sqlite3"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL pass of make test runs this")
def test_backup_wipe_restore_gives_the_same_results_and_evidence_on_postgresql(site, tmp_path, settings):
    manifest = _round_trip(tmp_path, settings)
    assert (
        manifest["database"]["vendor"] == "postgresql" and manifest["database"]["file"] == "database.pgdump"
    )
    assert (tmp_path / "backup" / "database.pgdump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format


def test_the_manifest_lists_every_file_with_its_size_and_checksum(small_site, tmp_path, settings):
    manifest = backup_create(target=tmp_path / "b")
    assert manifest["format"] == 1 and manifest["cityeval_version"]
    assert "results.0001_initial" in manifest["migrations"]
    listed = {f["path"]: (f["sha256"], f["size"]) for f in manifest["files"]}
    expected = {
        f"evidence/{hashlib.sha256(c).hexdigest()[:2]}/{hashlib.sha256(c).hexdigest()}": (
            hashlib.sha256(c).hexdigest(), len(c),
        )
        for c in EVIDENCE
    }  # fmt: skip
    assert listed == expected
    dump = tmp_path / "b" / manifest["database"]["file"]
    assert manifest["database"]["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert json.loads((tmp_path / "b" / "manifest.json").read_text()) == manifest


def test_restore_refuses_a_target_that_holds_data_without_force(small_site, tmp_path):
    backup_create(target=tmp_path / "b")
    with pytest.raises(BackupError, match="already holds data"):
        backup_restore(source=tmp_path / "b")


def test_restore_checks_every_checksum_before_touching_anything(small_site, tmp_path):
    manifest = backup_create(target=tmp_path / "b")
    province = Province.objects.create(name="Papua Selatan")
    Region.objects.create(name="Kab. Merauke", slug="kab-merauke", kind="kabupaten", province=province)
    damaged = tmp_path / "b" / "media" / manifest["files"][0]["path"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"X")  # same size, one byte changed
    with pytest.raises(BackupError, match="does not match its checksum"):
        backup_restore(source=tmp_path / "b", force=True)
    assert Region.objects.filter(slug="kab-merauke").exists()  # the database was not replaced


def test_restore_refuses_another_database_vendor(small_site, tmp_path):
    backup_create(target=tmp_path / "b")
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    other_file = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[other]
    (tmp_path / "b" / manifest["database"]["file"]).rename(tmp_path / "b" / other_file)
    manifest["database"] |= {"vendor": other, "file": other_file}  # checksums still match
    path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="database, this site uses"):
        backup_restore(source=tmp_path / "b", force=True)


def test_restore_refuses_a_path_outside_the_backup(small_site, tmp_path):
    backup_create(target=tmp_path / "b")
    path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"].append({"path": "../../etc/cron.d/x", "sha256": "0" * 64, "size": 1})
    path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="unsafe file path"):
        backup_restore(source=tmp_path / "b", force=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"files": {"evidence/x": 1}}, "not a list of entries"),
        ({"migrations": None}, "not a list of names"),
        ({"database": {"vendor": "sqlite", "file": "../database.sqlite3"}}, "no known database dump"),
        ({"format": 2}, "manifest of format 1"),
    ],
)
def test_restore_refuses_a_malformed_manifest(small_site, tmp_path, change, message):
    backup_create(target=tmp_path / "b")
    path = tmp_path / "b" / "manifest.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | change))
    with pytest.raises(BackupError, match=message):
        backup_restore(source=tmp_path / "b", force=True)


def test_backup_refuses_a_folder_that_is_not_empty(transactional_db, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text("{}")
    with pytest.raises(BackupError, match="not an empty folder"):
        backup_create(target=tmp_path / "old")
    assert (tmp_path / "old" / "manifest.json").read_text() == "{}"


def test_the_cli_runs_backup_and_reports_a_refused_restore_in_one_line(small_site, tmp_path, capsys):
    assert main(["backup", str(tmp_path / "b")]) == 0
    assert "2 files" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cityeval: error: the database already holds data") and err.count("\n") == 1
