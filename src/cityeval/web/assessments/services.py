"""Writes for the self-assessment. Answers and evidence are appended, never changed.

Every write first locks the cycle and the participation and refuses with ``CycleClosed``
(``evaluations.phases``) when it is submitted, past its deadline or its cycle is not open, so a
submission or a close racing an answer cannot let the answer in afterwards.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import unicodedata

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.engine.framework import Item
from cityeval.web.assessments.models import AnswerRevision, Evidence, EvidenceBlob, ItemAssignment
from cityeval.web.assessments.selectors import evidence_closed_reason, item_of
from cityeval.web.assessments.uploads import Inspected, UploadRejected, inspect_upload
from cityeval.web.audit import services as audit
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.phases import Activity, CycleClosed
from cityeval.web.evaluations.services import status_change_record
from cityeval.web.notices import services as notices
from cityeval.web.notices.models import Kind
from cityeval.web.notices.selectors import opd_contributors
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Opd

NARRATIVE_MAX = 10_000
URL_MAX = 500
NAME_MAX = 255

logger = logging.getLogger(__name__)


class ReopenRefused(Refused):
    """A submission cannot be undone: no reason given, or it is not submitted."""


class AnswerRejected(Refused):
    """Nothing was saved; ``errors`` maps a field (level, raw_value, narrative) to why."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), errors=errors)


class EvidenceRejected(Refused):
    """Nothing was saved; the message says why."""

    status = 422


class EvidenceNotStored(EvidenceRejected):
    """The file was acceptable but the server could not write it (e.g. the media folder is
    not writable or the disk is full). Nothing was saved; the administrator must act."""


def _lock_open(participation: Participation) -> Participation:
    """Lock the cycle and the participation for this transaction and check they still take
    writes."""
    locked = phases.lock_participation(participation)
    phases.require_self_assessment(locked)
    return locked


def _lock_for_evidence(participation: Participation, item: str) -> Participation:
    """Like _lock_open, but evidence for an item may also be added during a panel's top-up
    window for it (see evidence_closed_reason)."""
    locked = phases.lock_participation(participation)
    item_of(locked, item)
    reason = evidence_closed_reason(locked, item)
    if reason:
        raise CycleClosed(reason)
    return locked


def _range_errors(
    framework: Framework, item: Item, level: float | None, raw_value: float | None
) -> dict[str, str]:
    """The level off the framework's scale, the raw value negative, over 100 % or not finite."""
    errors: dict[str, str] = {}
    scale = framework.scale
    if level is not None and not math.isfinite(level):
        errors["level"] = _("The level must be a finite number.")
    elif level is not None and not scale.contains(level):
        errors["level"] = _("The level must be between %(min)g and %(max)g.") % {
            "min": scale.min,
            "max": scale.max,
        }
    if raw_value is not None and not math.isfinite(raw_value):
        errors["raw_value"] = _("The value must be a finite number.")
    elif raw_value is not None and raw_value < 0:
        errors["raw_value"] = _("The value cannot be negative.")
    elif raw_value is not None and item.unit == "percent" and raw_value > 100:
        errors["raw_value"] = _("A percentage cannot be above 100.")
    return errors


def answer_check(
    *, framework: Framework, item: Item, level: float | None, raw_value: float | None, narrative: str
) -> dict[str, str]:
    """Why an answer is not acceptable, by field; empty when it is.

    Level and survey items need a level on the framework's scale. Quantity items take a raw
    value (≥ 0; a percentage ≤ 100): with thresholds the level is derived from it, so none may
    be given; without thresholds a level may be claimed beside or instead of the value.
    """
    errors = _range_errors(framework, item, level, raw_value)
    if item.kind != "quantity":
        if raw_value is not None:
            errors.setdefault("raw_value", _("This item takes a level, not a value."))
        if level is None:
            errors.setdefault("level", _("Give a level."))
    elif item.thresholds is not None:
        if level is not None:
            errors.setdefault("level", _("The level of this item is derived from its value: leave it empty."))
        if raw_value is None:
            errors.setdefault("raw_value", _("Give the value; the level is derived from it."))
    elif level is None and raw_value is None:
        errors["raw_value"] = _("Give a value, a level, or both.")
    if len(narrative) > NARRATIVE_MAX:
        errors["narrative"] = _("Keep the narrative under %(n)d characters.") % {"n": NARRATIVE_MAX}
    return errors


@transaction.atomic
def answer_record(
    *,
    participation: Participation,
    item: str,
    level: float | None,
    raw_value: float | None,
    narrative: str,
    user: User,
) -> AnswerRevision:
    """Append a revision of the answer to ``item``; the latest revision is the answer."""
    locked = _lock_open(participation)
    _component, the_item = item_of(locked, item)
    narrative = (narrative or "").strip()
    errors = answer_check(
        framework=locked.cycle.framework.framework,
        item=the_item,
        level=level,
        raw_value=raw_value,
        narrative=narrative,
    )
    if errors:
        raise AnswerRejected(errors)
    return AnswerRevision.objects.create(
        participation=locked, item=item, level=level, raw_value=raw_value, narrative=narrative, author=user
    )


@transaction.atomic
def item_assign(*, participation: Participation, items: list[str], opd: Opd | None, user: User) -> int:
    """Assign items to an OPD of the region (``opd=None`` removes the assignment).

    Assignments say who answers, not what was answered, so they are updated in place.
    """
    locked = _lock_open(participation)
    if opd is not None and opd.region_id != locked.region_id:
        raise ValueError("the OPD belongs to another region")
    for code in items:
        item_of(locked, code)  # 404 for a code the region does not answer
    if opd is None:
        ItemAssignment.objects.filter(participation=locked, item__in=items).delete()
        return len(items)
    already = set(
        ItemAssignment.objects.filter(participation=locked, item__in=items, opd=opd).values_list(
            "item", flat=True
        )
    )
    for code in items:
        ItemAssignment.objects.update_or_create(
            participation=locked, item=code, defaults={"opd": opd, "assigned_by": user}
        )
    _notify_assigned(locked, opd, sorted(set(items) - already))
    return len(items)


def _notify_assigned(participation: Participation, opd: Opd, items: list[str]) -> None:
    """Tell the OPD's contributors which items are newly theirs (one notice per assignment)."""
    if not items:
        return
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()[:16]
    notices.notice_send(
        users=opd_contributors([opd.pk]),
        kind=Kind.ITEM_ASSIGNED,
        params={
            "cycle": participation.cycle.name, "region": participation.region.name, "opd": opd.name,
            "count": len(items), "items": items,
        },
        url=reverse(
            "assessments:overview",
            kwargs={"region": participation.region.slug, "cycle": participation.cycle.slug},
        ),
        dedupe_key=f"item-assigned:{participation.pk}:{opd.pk}:{digest}",
    )  # fmt: skip


@transaction.atomic
def self_assessment_submit(*, participation: Participation, user: User) -> Participation:
    """Submit the self-assessment: from now on every answer is read-only."""
    locked = _lock_open(participation)
    locked.submitted_at = timezone.now()
    locked.submitted_by = user
    locked.save(update_fields=["submitted_at", "submitted_by"])
    status_change_record(
        cycle=locked.cycle, participation=locked, action="submit", from_status="open",
        to_status="submitted", user=user,
    )  # fmt: skip
    audit.record(
        action=audit.Action.SELF_ASSESSMENT_SUBMIT, user=user, target=locked, region=locked.region,
        details={"cycle": locked.cycle.slug},
    )  # fmt: skip
    participation.submitted_at, participation.submitted_by = locked.submitted_at, user
    return locked


@transaction.atomic
def self_assessment_reopen(*, participation: Participation, user: User, reason: str) -> Participation:
    """Undo a submission (the coordinator's correction) with a written reason, kept in the
    history. The cycle must still be open; answers given so far stay as they are."""
    reason = (reason or "").strip()
    if not reason:
        raise ReopenRefused(_("Give the reason for reopening; it is kept in the history."))
    locked = phases.lock_participation(participation)
    if locked.submitted_at is None:
        raise ReopenRefused(_("This self-assessment is not submitted."))
    phases.require(locked.cycle, Activity.SELF_ASSESSMENT_REOPEN)
    locked.submitted_at = None
    locked.submitted_by = None
    locked.save(update_fields=["submitted_at", "submitted_by"])
    status_change_record(
        cycle=locked.cycle, participation=locked, action="reopen", from_status="submitted",
        to_status="open", user=user, reason=reason,
    )  # fmt: skip
    audit.record(
        action=audit.Action.SELF_ASSESSMENT_REOPEN, user=user, target=locked, region=locked.region,
        details={"cycle": locked.cycle.slug, "reason": reason},
    )  # fmt: skip
    participation.submitted_at, participation.submitted_by = None, None
    return locked


def clean_file_name(name: str | None) -> str:
    """The uploader's file name without folders or control characters, at most 255 long."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if len(base) > NAME_MAX:
        stem, ext = os.path.splitext(base)
        ext = ext if len(ext) <= 16 else ""
        base = stem[: NAME_MAX - len(ext)] + ext
    return base or "evidence"


def _blob_for(upload: UploadedFile, inspected: Inspected) -> EvidenceBlob:
    """The stored blob with these bytes, stored now if it is the first upload of them."""
    existing = EvidenceBlob.objects.filter(sha256=inspected.sha256).first()
    if existing is not None:
        return existing
    blob = EvidenceBlob(sha256=inspected.sha256, size=inspected.size, content_type=inspected.content_type)
    try:
        blob.file.save(inspected.sha256, upload, save=False)
    except OSError as exc:
        # The storage raises before any row exists; the caller's transaction records nothing.
        logger.error("Evidence file could not be stored: %s", exc)
        raise EvidenceNotStored(
            _(
                "The server could not store the file (its evidence folder is not writable or is full). "
                "Nothing was saved; please tell the platform administrator."
            )
        ) from None
    try:
        with transaction.atomic():
            blob.save()
    except IntegrityError:
        # A concurrent upload of the same bytes was stored first: use it, drop our copy. Neither
        # storage writes over an existing name (ours got a suffix), but should ours ever carry
        # the winner's name, deleting it would delete the winner's file: keep it then.
        winner = EvidenceBlob.objects.get(sha256=inspected.sha256)
        if blob.file.name != winner.file.name:
            blob.file.delete(save=False)
        return winner
    return blob


def evidence_blob_store(upload: UploadedFile, inspected: Inspected) -> EvidenceBlob:
    """The stored blob of a checked upload (``inspect_upload``), for another app's evidence
    (the follow-up actions of ``results``): stored once per content hash, as here. Raises
    EvidenceNotStored when the storage fails; call it inside the caller's transaction."""
    return _blob_for(upload, inspected)


def evidence_upload(*, participation: Participation, item: str, upload: UploadedFile, user: User) -> Evidence:
    """Store an evidence file for ``item``: checked by content, kept once per content hash,
    recorded with its original name, uploader and time. Raises EvidenceRejected. Evidence
    may be added while the self-assessment is open or, for an item the panel marked "needs
    evidence", until the interview's top-up deadline."""
    item_of(participation, item)
    reason = evidence_closed_reason(participation, item)
    if reason:  # before reading a large file that would be refused anyway
        raise CycleClosed(reason)
    try:
        inspected = inspect_upload(upload)
    except UploadRejected as exc:
        raise EvidenceRejected(str(exc)) from None
    with transaction.atomic():
        locked = _lock_for_evidence(participation, item)
        blob = _blob_for(upload, inspected)
        return Evidence.objects.create(
            participation=locked,
            item=item,
            blob=blob,
            original_name=clean_file_name(upload.name),
            uploaded_by=user,
        )


_LINK_VALIDATOR = URLValidator(schemes=["http", "https"])


def link_problem(url: str) -> str | None:
    """Why ``url`` cannot be evidence (http or https only, at most URL_MAX characters); None if
    it can. The item page's form checks it before saving anything, the service again."""
    try:
        if len(url) > URL_MAX:
            raise ValidationError("too long")
        _LINK_VALIDATOR(url)
    except ValidationError:
        return _("Give a full web address starting with http:// or https:// (at most %(n)d characters).") % {
            "n": URL_MAX
        }
    return None


@transaction.atomic
def evidence_link_add(*, participation: Participation, item: str, url: str, user: User) -> Evidence:
    """Record a link (http or https only) as evidence for ``item``."""
    locked = _lock_for_evidence(participation, item)
    url = (url or "").strip()
    if problem := link_problem(url):
        raise EvidenceRejected(problem)
    return Evidence.objects.create(participation=locked, item=item, url=url, uploaded_by=user)
