"""Sending e-mail: one message in the recipient's language, as plain text and HTML.

A message is two templates, ``<name>.txt`` and ``<name>.html`` (the first line of the text
template is the subject), rendered with the recipient's language active and a ``link``: the
absolute address of the page the message is about. The backend is Django's, chosen by the
``EMAIL_BACKEND`` setting; the demo's outbox reads what the "file" backend wrote
(:func:`outbox_messages`).
"""

from __future__ import annotations

import email
import email.policy
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation

DEFAULT_LANGUAGE = "id"  # Indonesian unless the recipient chose otherwise
# What sending raises when the mail server refuses or cannot be reached.
MAIL_ERRORS = (smtplib.SMTPException, OSError)
# Django's file backend ends every message with a line of 79 dashes.
_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def absolute_url(path: str, *, request: HttpRequest | None = None) -> str:
    """``path`` as an address outside the site can follow: under ``SITE_URL`` when it is set,
    otherwise under the address of ``request``, otherwise under the development server's."""
    if settings.SITE_URL:
        return settings.SITE_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return "http://127.0.0.1:8000" + path


def mail_build(
    *, to: str, template: str, context: dict, link: str, language: str = DEFAULT_LANGUAGE
) -> EmailMultiAlternatives:
    """The message ``template`` (``mail/<template>.txt`` and ``.html``) to ``to`` in ``language``."""
    supported = {code for code, _ in settings.LANGUAGES}
    with translation.override(language if language in supported else DEFAULT_LANGUAGE):
        values = {**context, "link": link, "site_name": settings.SITE_NAME}
        subject, _, body = render_to_string(f"mail/{template}.txt", values).strip().partition("\n")
        html = render_to_string(f"mail/{template}.html", values)
    message = EmailMultiAlternatives(subject=subject.strip(), body=body.strip() + "\n", to=[to])
    message.attach_alternative(html, "text/html")
    return message


def mail_send(
    *,
    to: str,
    template: str,
    context: dict,
    link: str,
    language: str = DEFAULT_LANGUAGE,
    connection: BaseEmailBackend | None = None,
) -> None:
    """Build and send one message (see :func:`mail_build`); errors reach the caller."""
    message = mail_build(to=to, template=template, context=context, link=link, language=language)
    message.connection = connection or get_connection()
    message.send()


@dataclass(frozen=True)
class OutboxMessage:
    name: str  # the file and position, for the page's address
    to: str
    subject: str
    text: str
    date: str


def _parse(raw: bytes) -> ParsedMessage:
    return email.message_from_bytes(raw.strip(), policy=email.policy.default)


def outbox_messages(folder: Path | None = None, *, limit: int = 200) -> list[OutboxMessage]:
    """The newest ``limit`` messages the "file" backend wrote into ``folder``, newest first."""
    folder = Path(folder or settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    found: list[OutboxMessage] = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        parts = [part for part in path.read_bytes().split(_SEPARATOR) if part.strip()]
        for index, raw in reversed(list(enumerate(parts))):
            parsed = _parse(raw)
            body = parsed.get_body(preferencelist=("plain",))
            found.append(
                OutboxMessage(
                    name=f"{path.stem}-{index}",
                    to=str(parsed["To"] or ""),
                    subject=str(parsed["Subject"] or ""),
                    text=body.get_content() if body is not None else "",
                    date=str(parsed["Date"] or ""),
                )
            )
            if len(found) >= limit:
                return found
    return found
