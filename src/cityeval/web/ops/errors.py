"""Error reporting to Sentry or a Sentry-compatible service (e.g. GlitchTip), from SENTRY_DSN.

Started by the settings only when SENTRY_DSN is set (and never inside the test suite, whose
deliberate errors are not incidents). Reports carry the request id, so an error report and the
request's log lines can be joined; they carry no personal data: no user addresses or cookies
(``send_default_pii`` off) and no request bodies, which hold survey answers and passwords;
frames carry no local variables (they would hold the request, answers and passwords);
the request's URL and Referer keep their path with secret segments (survey, invitation and
reset links) masked, and no query string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cityeval import __version__
from cityeval.web.ops.logs import current_request_id, masked_url

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint


def _before_send(event: Event, hint: Hint) -> Event:
    """Tag the report with the request id; mask the secrets its request data would carry."""
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    request = event.get("request")
    if isinstance(request, dict):
        url = request.get("url")
        if isinstance(url, str):
            request["url"] = masked_url(url)
        request.pop("query_string", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            for name, value in list(headers.items()):
                if name.lower() == "referer" and isinstance(value, str):
                    headers[name] = masked_url(value)
    return event


def error_reporting_start(*, dsn: str, environment: str) -> None:
    import sentry_sdk  # only imported where it is used

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"cityeval@{__version__}",
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,  # frames' variables hold requests, answers, passwords
        traces_sample_rate=0.0,
        before_send=_before_send,
    )
