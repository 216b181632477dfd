"""The origin of the request being served is worked out when an entry needs it, once."""

from __future__ import annotations

from django.urls import reverse

from cityeval.web.audit import services as audit
from cityeval.web.audit.models import AuditEntry


def _counted(monkeypatch) -> list[object]:
    calls: list[object] = []
    real = audit.origin_of
    monkeypatch.setattr(audit, "origin_of", lambda request: calls.append(request) or real(request))
    return calls


def test_a_request_that_records_nothing_does_not_work_out_its_origin(admin_a, as_user, monkeypatch):
    client = as_user(admin_a)
    calls = _counted(monkeypatch)
    assert client.get(reverse("accounts:tokens")).status_code == 200
    assert calls == [] and not AuditEntry.objects.exists()


def test_entries_of_one_request_share_its_origin_worked_out_once(admin_a, as_user, monkeypatch):
    client = as_user(admin_a)
    calls = _counted(monkeypatch)
    client.post(reverse("accounts:tokens"), {"name": "laptop"}, HTTP_X_REQUEST_ID="trace-0002-abcd")
    (entry,) = AuditEntry.objects.all()
    assert (entry.network, entry.request_id) == ("127.0.0.0/24", "trace-0002-abcd")
    assert len(calls) == 1
    assert audit.current_origin() == {}  # outside a request
