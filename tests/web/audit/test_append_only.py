"""The audit trail is append-only: nothing in the code can change or delete an entry.

Two proofs that do not depend on the database: the model and its queryset refuse every way
Django writes a stored row (save, delete, update, bulk_update), and a reading of the source
(``ast``) finds no module but the audit app's own that touches ``AuditEntry``, and in those
the only write is ``objects.create``. On PostgreSQL a trigger refuses UPDATE and DELETE too
(``test_the_database_refuses_on_postgresql``, skipped on SQLite)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection, transaction

from cityeval.web.audit import services as audit
from cityeval.web.audit.models import AuditEntry, AuditEntryChanged

SRC = Path(__file__).resolve().parents[3] / "src" / "cityeval"
AUDIT_APP = SRC / "web" / "audit"
# The audit app's modules that name the model, and what each may call on it.
OWN = {"models.py", "selectors.py", "services.py"}


@pytest.fixture
def entry(db):
    return audit.record(action=audit.Action.TOKEN_CREATE, user=None, target_text="script")


def test_save_of_a_stored_entry_raises(entry):
    entry.target_text = "changed"
    with pytest.raises(AuditEntryChanged):
        entry.save()
    assert AuditEntry.objects.get().target_text == "script"


def test_a_fetched_entry_cannot_be_saved_either(entry):
    fetched = AuditEntry.objects.get()
    with pytest.raises(AuditEntryChanged):
        fetched.save(update_fields=["target_text"])


def test_delete_raises(entry):
    with pytest.raises(AuditEntryChanged):
        entry.delete()
    assert AuditEntry.objects.count() == 1


def test_queryset_update_raises(entry):
    with pytest.raises(AuditEntryChanged):
        AuditEntry.objects.filter(pk=entry.pk).update(target_text="changed")
    assert AuditEntry.objects.get().target_text == "script"


def test_queryset_delete_and_bulk_update_raise(entry):
    with pytest.raises(AuditEntryChanged):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditEntryChanged):
        AuditEntry.objects.bulk_update([entry], ["target_text"])
    assert AuditEntry.objects.count() == 1


def test_an_unknown_action_is_refused(db):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(action="coffee_break", user=None)
    assert not AuditEntry.objects.exists()


def _files_naming_the_model() -> set[Path]:
    return {
        p for p in SRC.rglob("*.py") if "migrations" not in p.parts and "AuditEntry" in p.read_text("utf-8")
    }


def test_only_the_audit_app_names_the_model():
    """Every other app goes through ``audit.record`` (which only creates)."""
    outside = sorted(str(p.relative_to(SRC)) for p in _files_naming_the_model() if p.parent != AUDIT_APP)
    assert outside == []
    assert {p.name for p in _files_naming_the_model()} <= OWN


def _calls(path: Path) -> list[str]:
    """Each call in the file whose function is an attribute, as text (``super().save``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        ast.unparse(n.func)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]


def test_the_audit_app_only_creates_and_reads():
    """The audit app's own modules call no ``update``, ``delete`` or ``bulk_update``, and
    ``save`` only as the model's own first insert (``super().save``)."""
    writes = {
        f"{path.name}: {call}"
        for path in AUDIT_APP.glob("*.py")
        for call in _calls(path)
        if call.rsplit(".", 1)[-1] in {"update", "delete", "bulk_update", "save", "_raw_delete"}
    }
    assert writes == {"models.py: super().save"}
    assert "AuditEntry.objects.create(" in (AUDIT_APP / "services.py").read_text("utf-8")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_the_database_refuses_on_postgresql(entry):
    """Past the model (raw SQL), PostgreSQL's trigger still refuses."""
    from django.db import DatabaseError

    for sql in ("UPDATE audit_auditentry SET target_text = 'x'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get().target_text == "script"
