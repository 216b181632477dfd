"""The notice pages: a person's own list (newest first, unread marked, 50 a page), opening a
notice (marks it read, goes to its page), marking all read, the e-mail preference, and the
unread count in the navigation. Anonymous → log-in page; another person's notice → 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cityeval.web.notices.models import Kind, Notice, NoticePreference
from cityeval.web.notices.selectors import unread_count
from cityeval.web.notices.services import NoAddress, notice_send, preference_save

pytestmark = pytest.mark.django_db


def _notice(user, n=1, url="/results/"):
    made = notice_send(
        users=[user], kind=Kind.RESULTS_PUBLISHED, url=url, dedupe_key=f"test:{n}", mail=False,
        params={"cycle": f"GMSC {2000 + n}", "region": "Kota Medan"},
    )  # fmt: skip
    return made[0]


@pytest.mark.parametrize(
    "name,method", [("notices:list", "get"), ("notices:preferences", "get"), ("notices:read_all", "post")]
)
def test_anonymous_is_sent_to_log_in(world, as_user, name, method):
    response = getattr(as_user(None), method)(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_cannot_open_a_notice(admin_b, as_user):
    notice = _notice(admin_b)
    response = as_user(None).post(reverse("notices:open", kwargs={"notice": notice.public_id}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_list_shows_only_my_notices_newest_first_with_the_unread_count(admin_a, admin_b, as_user):
    _notice(admin_a, 1)
    _notice(admin_a, 2)
    _notice(admin_b, 3)
    response = as_user(admin_a).get(reverse("notices:list"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "GMSC 2002" in page and "GMSC 2001" in page and "GMSC 2003" not in page
    assert page.index("GMSC 2002") < page.index("GMSC 2001")  # newest first
    assert response.context["nav_unread_notices"] == 2
    assert page.count('class="unread"') == 2


def test_another_persons_notice_is_404_and_stays_unread(admin_a, admin_b, as_user):
    theirs = _notice(admin_b)
    response = as_user(admin_a).post(reverse("notices:open", kwargs={"notice": theirs.public_id}))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_marks_read_and_goes_to_the_page(admin_a, as_user):
    notice = _notice(admin_a, url="/r/kab-deli-serdang/gmsc-2024/results/")
    client = as_user(admin_a)
    response = client.post(reverse("notices:open", kwargs={"notice": notice.public_id}))
    assert response.status_code == 302 and response["Location"] == "/r/kab-deli-serdang/gmsc-2024/results/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert client.get(reverse("notices:list")).context["nav_unread_notices"] == 0


def test_the_mail_s_link_logs_in_then_marks_read_and_goes_to_the_page(admin_a):
    """Review: a notice opened from its mail stayed unread (the mail linked the page itself)."""
    from django.test import Client

    from tests.helpers.web import PASSWORD

    notice = _notice(admin_a, url="/r/kab-deli-serdang/gmsc-2024/results/")
    link = reverse("notices:open", kwargs={"notice": notice.public_id})
    client = Client()
    login = client.get(link)
    assert login.status_code == 302 and login["Location"] == f"{reverse('accounts:login')}?next={link}"
    client.post(reverse("accounts:login"), {"username": admin_a.username, "password": PASSWORD})
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == "/r/kab-deli-serdang/gmsc-2024/results/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_a_stored_address_elsewhere_goes_to_the_list(admin_a, as_user):
    notice = _notice(admin_a, url="https://evil.example/")
    response = as_user(admin_a).post(reverse("notices:open", kwargs={"notice": notice.public_id}))
    assert response["Location"] == reverse("notices:list")


def test_mark_all_read_touches_only_my_notices(admin_a, admin_b, as_user):
    _notice(admin_a, 1)
    _notice(admin_a, 2)
    theirs = _notice(admin_b, 3)
    response = as_user(admin_a).post(reverse("notices:read_all"))
    assert response.status_code == 302
    assert not Notice.objects.filter(user=admin_a, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_pages_by_50(admin_a, as_user):
    for n in range(51):
        _notice(admin_a, n)
    client = as_user(admin_a)
    assert len(client.get(reverse("notices:list")).context["rows"]) == 50
    assert len(client.get(reverse("notices:list") + "?page=2").context["rows"]) == 1


def test_the_preference_is_saved_for_me_only(mailed, admin_a, admin_b, as_user):
    client = as_user(admin_a)
    assert client.get(reverse("notices:preferences")).status_code == 200
    response = client.post(reverse("notices:preferences"), {"delivery": "daily", "language": "en"})
    assert response.status_code == 302
    preference = NoticePreference.objects.get(user=admin_a)
    assert (preference.delivery, preference.language) == ("daily", "en")
    assert not NoticePreference.objects.filter(user=admin_b).exists()
    bad = client.post(reverse("notices:preferences"), {"delivery": "hourly", "language": "en"})
    assert bad.status_code == 400
    assert NoticePreference.objects.get(user=admin_a).delivery == "daily"


def test_without_an_address_the_mail_choices_are_shown_disabled_with_the_reason(admin_a, as_user):
    """Review: a person with no e-mail address was offered e-mail delivery. The choices stay
    visible (what would be possible) but disabled, beside the sentence that says why."""
    assert admin_a.email == ""
    page = as_user(admin_a).get(reverse("notices:preferences")).content.decode()
    reason = "Your account has no e-mail address, so notices cannot be sent to you by e-mail"
    assert reason in page and 'id="no-address"' in page
    radios = re.findall(r'<input type="radio" name="delivery"[^>]*>', page)
    assert len(radios) == 2 and all(" disabled" in radio for radio in radios)
    assert re.search(r'<select name="language" id="notice-language" disabled', page)
    assert re.search(r'<button type="submit" disabled>', page)


def test_with_an_address_the_mail_choices_are_open(mailed, admin_a, as_user):
    page = as_user(admin_a).get(reverse("notices:preferences")).content.decode()
    assert "has no e-mail address" not in page
    radios = re.findall(r'<input type="radio" name="delivery"[^>]*>', page)
    assert len(radios) == 2 and not any("disabled" in radio for radio in radios)


def test_without_an_address_a_posted_mail_choice_is_refused(admin_a, as_user):
    for data in ({"delivery": "daily", "language": "en"}, {"delivery": "immediate", "language": ""}):
        refused = as_user(admin_a).post(reverse("notices:preferences"), data)
        assert refused.status_code == 400
        assert "has no e-mail address" in refused.content.decode()
    assert not NoticePreference.objects.filter(user=admin_a).exists()
    with pytest.raises(NoAddress):  # the service refuses too, for any other caller
        preference_save(user=admin_a, delivery="daily", language="en")


def test_the_reason_is_said_in_indonesian(admin_a, as_user, settings):
    settings.LANGUAGE_CODE = "id"
    page = as_user(admin_a).get(reverse("notices:preferences")).content.decode()
    assert "Akun Anda tidak memiliki alamat surel" in page


def test_the_navigation_shows_the_unread_count(admin_a, as_user):
    _notice(admin_a, 1)
    page = as_user(admin_a).get(reverse("notices:preferences")).content.decode()
    assert 'id="nav-notices"' in page and '<span class="badge">1<' in page


def test_the_list_is_indonesian_by_default(admin_a, as_user, settings):
    settings.LANGUAGE_CODE = "id"
    _notice(admin_a, 1)
    page = as_user(admin_a).get(reverse("notices:list")).content.decode()
    assert "Hasil dipublikasikan: GMSC 2001" in page and "Tandai semua sudah dibaca" in page


def test_the_unread_count_costs_one_query(admin_a, rf, django_assert_num_queries):
    from cityeval.web.notices.context import unread

    _notice(admin_a, 1)
    _notice(admin_a, 2)
    request = rf.get("/")
    request.user = admin_a
    with django_assert_num_queries(1):
        assert unread(request) == {"nav_unread_notices": 2}


def test_the_unread_count_is_the_orms_count(admin_a, admin_b, coordinator):
    """The navigation's count (written as SQL) against the ORM's: read notices, another
    person's notices and a person with none are counted as the ORM counts them."""
    for n in range(1, 4):
        _notice(admin_a, n)
    _notice(admin_b, 9)
    Notice.objects.filter(user=admin_a, dedupe_key="test:2").update(read_at=timezone.now())
    for user in (admin_a, admin_b, coordinator):
        assert unread_count(user) == Notice.objects.filter(user=user, read_at=None).count()
    assert [unread_count(u) for u in (admin_a, admin_b, coordinator)] == [2, 1, 0]
