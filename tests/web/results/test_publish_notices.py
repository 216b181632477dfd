"""Publishing a cycle's results tells each participating region's admins, with a link to their
region's results page, and nobody else."""

from __future__ import annotations

import pytest
from django.core import mail

from cityeval.web.notices.models import Kind, Notice
from cityeval.web.results.services import cycle_publish

pytestmark = pytest.mark.django_db


def test_publishing_notifies_each_regions_admins_once(
    computed, coordinator, admin_a, admin_b, opd_a, nobody, django_capture_on_commit_callbacks
):
    admin_a.email = "admin_a@example.go.id"
    admin_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        cycle_publish(cycle=computed.cycle, user=coordinator)
    rows = sorted(Notice.objects.filter(kind=Kind.RESULTS_PUBLISHED).values_list("user__username", "url"))
    assert rows == [
        ("admin_a", "/r/kab-deli-serdang/gmsc-2024/results/"),
        ("admin_b", "/r/kota-medan/gmsc-2024/results/"),
    ]
    # Only admin_a has an address: one mail, in Indonesian.
    (message,) = mail.outbox
    assert message.to == ["admin_a@example.go.id"]
    assert message.subject == "Hasil dipublikasikan: GMSC 2024 · cityeval"
