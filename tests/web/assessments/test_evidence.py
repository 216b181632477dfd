"""Evidence through the item page: stored once per content, recorded per upload, refused by
content and size with a clear message and nothing saved."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cityeval.web.assessments.models import Evidence, EvidenceBlob
from tests.web.assessments.helpers import LEVEL_ITEM, ooxml_bytes, pdf_bytes


@pytest.fixture
def client_a(as_user, admin_a):
    return as_user(admin_a)


def post_file(client, urls, name, data, content_type="application/octet-stream", item=LEVEL_ITEM):
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(urls.evidence(item), {"kind": "file", "file": upload})


def counts():
    return EvidenceBlob.objects.count(), Evidence.objects.count()


def test_an_upload_keeps_name_hash_uploader_and_time(world, client_a, admin_a, urls):
    data = pdf_bytes()
    response = post_file(client_a, urls, "SK Tim Smart City 2024.pdf", data)
    assert response.status_code == 302
    evidence = Evidence.objects.select_related("blob").get()
    assert evidence.original_name == "SK Tim Smart City 2024.pdf"
    assert evidence.blob.sha256 == hashlib.sha256(data).hexdigest()
    assert evidence.blob.size == len(data)
    assert evidence.blob.content_type == "application/pdf"
    assert evidence.uploaded_by == admin_a and evidence.uploaded_at is not None
    assert (evidence.item, evidence.participation) == (LEVEL_ITEM, world.participation_a)
    with evidence.blob.file.open("rb") as stored:
        assert stored.read() == data
    page = client_a.get(urls.item()).content.decode()
    assert "SK Tim Smart City 2024.pdf" in page and f"/evidence/{evidence.public_id}/" in page
    assert "<td>PDF</td>" in page


def test_the_same_file_twice_is_stored_once_and_recorded_twice(world, client_a, as_user, opd_a, assign, urls):
    assign("baseline.council_meeting", world.opd_health)
    post_file(client_a, urls, "laporan.pdf", pdf_bytes("same"))
    post_file(as_user(opd_a), urls, "copy of laporan.pdf", pdf_bytes("same"), item="baseline.council_meeting")
    assert counts() == (1, 2)
    names = sorted(Evidence.objects.values_list("original_name", "uploaded_by__username"))
    assert names == [("copy of laporan.pdf", "opd_a"), ("laporan.pdf", "admin_a")]
    post_file(client_a, urls, "other.pdf", pdf_bytes("different"))
    assert counts() == (2, 3)


def test_office_documents_are_accepted(world, client_a, urls):
    assert post_file(client_a, urls, "rekap.xlsx", ooxml_bytes("xl/workbook.xml")).status_code == 302
    assert post_file(client_a, urls, "notulen.docx", ooxml_bytes("word/document.xml")).status_code == 302
    assert sorted(EvidenceBlob.objects.values_list("content_type", flat=True)) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(300)),
        ("report.pdf", b"<!doctype html><html><script>document.cookie</script></html>"),
    ],
)
def test_a_disallowed_type_is_refused_by_content_whatever_its_name(world, client_a, urls, name, data):
    response = post_file(client_a, urls, name, data, content_type="application/pdf")
    assert response.status_code == 200
    assert b"This file type is not allowed." in response.content
    assert b"Allowed types: PDF" in response.content
    assert counts() == (0, 0)


def test_a_file_over_the_size_limit_is_refused(world, client_a, urls, settings, monkeypatch):
    """Stopped while it is received: the service never sees the file."""
    settings.EVIDENCE_MAX_MB = 1

    def never(**kwargs):
        raise AssertionError("the oversized upload reached the service")

    monkeypatch.setattr("cityeval.web.assessments.evidence_views.evidence_upload", never)
    data = pdf_bytes() + b"%" * (1024 * 1024)
    response = post_file(client_a, urls, "big.pdf", data, content_type="application/pdf")
    assert response.status_code == 200
    assert b"The file is larger than the limit of 1 MB." in response.content
    assert b"This field is required." not in response.content
    assert counts() == (0, 0)


def test_a_file_under_the_size_limit_is_accepted(world, client_a, urls, settings):
    settings.EVIDENCE_MAX_MB = 1
    data = pdf_bytes() + b"%" * (1024 * 1024 - 2000)
    assert post_file(client_a, urls, "fits.pdf", data).status_code == 302
    assert counts() == (1, 1)


def test_a_missing_file_is_refused(world, client_a, urls):
    response = client_a.post(urls.evidence(), {"kind": "file"})
    assert b"This field is required." in response.content
    assert counts() == (0, 0)


def test_the_original_name_loses_folders_and_control_characters(world, client_a, urls):
    post_file(client_a, urls, "laporan\x07akhir.pdf", pdf_bytes())
    assert Evidence.objects.get().original_name == "laporanakhir.pdf"


def test_a_link_is_recorded(world, client_a, admin_a, urls):
    url = "https://deliserdangkab.go.id/sk-dewan-smart-city.pdf"
    assert client_a.post(urls.evidence(), {"kind": "link", "url": url}).status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.url, evidence.blob, evidence.uploaded_by) == (url, None, admin_a)
    assert url.encode() in client_a.get(urls.item()).content


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(1)", b"starting with http:// or https://"),
        ("ftp://example.org/a.pdf", b"starting with http:// or https://"),
        ("https://" + "x" * 600 + ".org", b"at most 500 characters"),
    ],
)
def test_only_http_and_https_links_are_accepted(world, client_a, urls, url, message):
    response = client_a.post(urls.evidence(), {"kind": "link", "url": url})
    assert response.status_code == 200
    assert message in response.content
    assert counts() == (0, 0)


@pytest.mark.parametrize("typed", ["www.deliserdangkab.go.id/sk.pdf", "  deliserdangkab.go.id/sk.pdf "])
def test_a_bare_domain_is_taken_as_an_https_link(world, client_a, urls, typed):
    """As on the follow-up page: what people type from a letterhead is a link, not an error."""
    assert client_a.post(urls.evidence(), {"kind": "link", "url": typed}).status_code == 302
    assert Evidence.objects.get().url == "https://" + typed.strip()


def test_a_link_is_not_downloadable(world, client_a, urls):
    client_a.post(urls.evidence(), {"kind": "link", "url": "https://example.org/a"})
    assert client_a.get(f"/evidence/{Evidence.objects.get().public_id}/").status_code == 404


def test_an_upload_still_needs_the_csrf_token(world, admin_a, urls):
    """The upload view installs its size-limiting handler before the CSRF check, so it checks
    CSRF itself: a forged cross-site upload must still fail."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    data = {"kind": "file", "file": SimpleUploadedFile("a.pdf", pdf_bytes())}
    assert client.post(urls.evidence(), data).status_code == 403
    assert counts() == (0, 0)
    client.get(urls.item())  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    data = {"csrfmiddlewaretoken": token, "kind": "file", "file": SimpleUploadedFile("a.pdf", pdf_bytes())}
    assert client.post(urls.evidence(), data).status_code == 302
    assert counts() == (1, 1)


def test_an_unwritable_media_folder_is_a_clear_503_and_nothing_is_saved(
    world, client_a, urls, settings, tmp_path
):
    """The storage cannot create its folder: MEDIA_ROOT lies inside a regular file, so the
    operating system refuses (NotADirectoryError) even for root, who ignores permission bits.
    Before the fix the OSError escaped as a 500."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    settings.MEDIA_ROOT = blocker / "media"
    response = post_file(client_a, urls, "laporan.pdf", pdf_bytes())
    assert response.status_code == 503
    assert b"The server could not store the file" in response.content
    assert b"Nothing was saved" in response.content
    assert counts() == (0, 0)
    # Once the folder is fixed, the same upload goes through.
    settings.MEDIA_ROOT = tmp_path / "media"
    assert post_file(client_a, urls, "laporan.pdf", pdf_bytes()).status_code == 302
    assert counts() == (1, 1)
