"""Error reporting to Sentry or a Sentry-compatible service (e.g. GlitchTip), from SENTRY_DSN.

Started by the settings only when SENTRY_DSN is set (and never inside the test suite, whose
deliberate errors are not incidents). Reports carry the request id, so an error report and the
request's log lines can be joined; they carry no personal data: no user addresses or cookies
(``send_default_pii`` off) and no request bodies, which hold survey answers and passwords.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cityeval import __version__
from cityeval.web.ops.logs import current_request_id

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint


def _tag_request_id(event: Event, hint: Hint) -> Event:
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def error_reporting_start(*, dsn: str, environment: str) -> None:
    import sentry_sdk  # only imported where it is used

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"cityeval@{__version__}",
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=_tag_request_id,
    )
