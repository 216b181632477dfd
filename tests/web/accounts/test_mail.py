"""E-mail: backends chosen by the environment, messages in the recipient's language with an
absolute link, and the demo's outbox (coordinator only, only when DEMO_OUTBOX is on)."""

from __future__ import annotations

import subprocess
import sys

from django.core import mail
from django.core.mail import get_connection
from django.test import Client
from django.urls import reverse

from cityeval.web.mail import absolute_url, mail_send, outbox_messages


def _backend_for(env: dict[str, str]) -> str:
    """EMAIL_BACKEND as a fresh interpreter reads it from ``env`` (settings are read once)."""
    code = "from cityeval.web import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT)"
    base = {"PATH": "/usr/bin:/bin", "CITYEVAL_DATA_DIR": "/tmp/cityeval-mail-test"}
    done = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_development_prints_mail_and_production_sends_it_by_smtp_from_the_environment():
    assert _backend_for({}).startswith("django.core.mail.backends.console.EmailBackend")
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "k" * 60,
        "ALLOWED_HOSTS": "cityeval.example.go.id",
        "EMAIL_HOST": "smtp.example.go.id",
        "EMAIL_PORT": "465",
    }
    assert _backend_for(production) == "django.core.mail.backends.smtp.EmailBackend smtp.example.go.id 465"


def test_an_unknown_backend_name_stops_the_start():
    code = "import cityeval.web.settings"
    env = {"PATH": "/usr/bin:/bin", "EMAIL_BACKEND": "pigeon", "CITYEVAL_DATA_DIR": "/tmp/cityeval-mail-test"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "EMAIL_BACKEND must be one of" in done.stderr


def test_a_message_goes_in_indonesian_by_default_as_text_and_html_with_an_absolute_link(settings):
    settings.SITE_URL = "https://cityeval.example.go.id"
    link = absolute_url("/accounts/password/reset/x/y/")
    mail_send(to="budi@example.go.id", template="password_reset", context={"username": "budi"}, link=link)
    (message,) = mail.outbox
    # The catalogue's Indonesian for "Set a new password".
    assert message.subject.startswith("Atur kata sandi baru")
    assert "https://cityeval.example.go.id/accounts/password/reset/x/y/" in message.body
    html, kind = message.alternatives[0]
    assert (
        kind == "text/html" and 'href="https://cityeval.example.go.id/accounts/password/reset/x/y/"' in html
    )


def test_a_message_in_english_when_the_recipient_reads_english():
    mail_send(to="a@example.org", template="password_reset", context={}, link="http://x/", language="en")
    assert mail.outbox[0].subject.startswith("Set a new password")


def test_without_site_url_the_link_is_on_the_requests_host(settings, rf):
    settings.SITE_URL = ""
    request = rf.get("/", HTTP_HOST="localhost")
    assert absolute_url("/a/", request=request) == "http://localhost/a/"


def _demo_mail(settings, tmp_path) -> None:
    settings.DEMO_OUTBOX = True
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    connection = get_connection(
        "django.core.mail.backends.filebased.EmailBackend", file_path=str(tmp_path / "mail")
    )
    for n in (1, 2):
        mail_send(
            to=f"user{n}@example.go.id",
            template="password_reset",
            context={"username": f"user{n}"},
            link=f"http://127.0.0.1:8000/link/{n}/",
            connection=connection,
        )


def test_the_outbox_lists_what_the_file_backend_wrote_newest_first(settings, tmp_path):
    _demo_mail(settings, tmp_path)
    found = outbox_messages(tmp_path / "mail")
    assert [m.to for m in found] == ["user2@example.go.id", "user1@example.go.id"]
    assert "http://127.0.0.1:8000/link/2/" in found[0].text


def test_the_outbox_page_is_the_coordinators_when_the_demo_turns_it_on(
    settings, tmp_path, coordinator, admin_a, as_user
):
    _demo_mail(settings, tmp_path)
    url = reverse("accounts:outbox")
    page = as_user(coordinator).get(url)
    assert page.status_code == 200 and b'href="http://127.0.0.1:8000/link/1/"' in page.content
    assert as_user(admin_a).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # anonymous: to log in
    settings.DEMO_OUTBOX = False
    assert as_user(coordinator).get(url).status_code == 404
