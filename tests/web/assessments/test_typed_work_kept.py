"""The item page's one form: uploading a file or adding a link keeps (saves) the level and
narrative typed beside it; if any part is wrong nothing is saved and the typed answer comes back.

Before issue 11 the answer and the upload were two forms: pressing Upload sent only the file,
and the page that came back had lost the typed level and narrative."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.web.assessments.models import AnswerRevision, Evidence
from tests.web.assessments.helpers import LEVEL_ITEM, pdf_bytes


def one_form(level="3", narrative="SK Walikota 2024 no. 12", **extra):
    return {"with_answer": "1", "level": level, "narrative": narrative, "url": "", **extra}


def test_the_item_page_has_one_form_for_answer_file_and_link(world, as_user, admin_a, urls):
    page = as_user(admin_a).get(urls.item()).content.decode()
    start = page.index('id="answer-form"')
    form = page[start : page.index("</form>", start)]
    assert 'name="level"' in form and 'name="file"' in form and 'name="url"' in form
    assert 'enctype="multipart/form-data"' in page[page.rindex("<form", 0, start) : start]


def test_pressing_upload_saves_the_typed_answer_and_the_file(world, as_user, admin_a, urls):
    upload = SimpleUploadedFile("sk.pdf", pdf_bytes(), content_type="application/pdf")
    response = as_user(admin_a).post(urls.evidence(), one_form(kind="file", file=upload))
    assert response.status_code == 302
    revision = AnswerRevision.objects.get()
    assert (revision.item, revision.level, revision.narrative) == (LEVEL_ITEM, 3.0, "SK Walikota 2024 no. 12")
    assert Evidence.objects.get().original_name == "sk.pdf"


def test_an_unchanged_answer_adds_no_revision_with_the_upload(world, as_user, admin_a, answer, urls):
    answer(LEVEL_ITEM, level=3.0, narrative="SK Walikota 2024 no. 12")
    upload = SimpleUploadedFile("sk.pdf", pdf_bytes(), content_type="application/pdf")
    assert as_user(admin_a).post(urls.evidence(), one_form(kind="file", file=upload)).status_code == 302
    assert AnswerRevision.objects.count() == 1 and Evidence.objects.count() == 1


def test_a_refused_file_saves_nothing_and_keeps_the_typed_answer(world, as_user, admin_a, urls):
    bad = SimpleUploadedFile("sk.pdf", b"MZ\x90\x00" + bytes(300), content_type="application/pdf")
    response = as_user(admin_a).post(
        urls.evidence(), one_form(kind="file", file=bad, narrative="Typed ketikan")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This file type is not allowed." in page
    assert "Typed ketikan</textarea>" in page and 'value="3"' in page
    assert AnswerRevision.objects.count() == 0 and Evidence.objects.count() == 0


def test_an_invalid_answer_saves_no_file_either(world, as_user, admin_a, urls):
    upload = SimpleUploadedFile("sk.pdf", pdf_bytes(), content_type="application/pdf")
    response = as_user(admin_a).post(urls.evidence(), one_form(level="9", kind="file", file=upload))
    assert response.status_code == 200
    assert AnswerRevision.objects.count() == 0 and Evidence.objects.count() == 0


def test_the_link_button_saves_the_answer_and_the_link(world, as_user, admin_a, urls):
    response = as_user(admin_a).post(
        urls.evidence(), one_form(kind="link", url="https://jdih.example.go.id/sk")
    )
    assert response.status_code == 302
    assert AnswerRevision.objects.count() == 1
    assert Evidence.objects.get().url == "https://jdih.example.go.id/sk"


def test_a_refused_link_saves_neither_the_answer_nor_the_file(world, as_user, admin_a, urls):
    """A link the service refuses (not http/https) is refused before anything is saved: found by
    review, the answer and the file used to be stored before the link was checked."""
    upload = SimpleUploadedFile("sk.pdf", pdf_bytes(), content_type="application/pdf")
    for bad in ("javascript:alert(1)", "ftp://example.com/sk.pdf"):
        response = as_user(admin_a).post(urls.evidence(), one_form(kind="link", url=bad, file=upload))
        assert response.status_code == 200
        assert "Give a full web address starting with http:// or https://" in response.content.decode()
        upload.seek(0)
    assert AnswerRevision.objects.count() == 0 and Evidence.objects.count() == 0


def test_outsiders_cannot_use_the_one_form(world, as_user, admin_b, opd_a, urls):
    """Region B's admin gets 404; region A's OPD contributor, without the item assigned, 403."""
    assert as_user(admin_b).post(urls.evidence(), one_form(kind="answer")).status_code == 404
    assert as_user(opd_a).post(urls.evidence(), one_form(kind="answer")).status_code == 403
    assert AnswerRevision.objects.count() == 0


def test_the_browser_is_not_told_to_require_every_part_of_the_one_form(world, as_user, admin_a, urls):
    """With ``required`` on the link field a browser refuses Upload until a link is typed."""
    page = as_user(admin_a).get(urls.item()).content.decode()
    start = page.index('id="answer-form"')
    assert " required" not in page[start : page.index("</form>", start)]
