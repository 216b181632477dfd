"""The web demo's KKPD: the three KKPD logins see what their roles allow, and every rule the
demo plants (except late_settlement: no bills are loaded in the web app) has a flag."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from cityeval.web.demo import load_demo
from cityeval.web.kkpd.models import Card, Flag, Transaction
from tests.helpers.web import login_client

DELI = {"region": "kab-deli-serdang"}


def test_the_demo_runs_kkpd_for_deli_serdang(db, settings):
    settings.LANGUAGE_CODE = "en"
    logins = {login.username: login for login in load_demo()}
    assert Card.objects.count() == 20 and Transaction.objects.count() > 4000
    rules = set(Flag.objects.values_list("rule", flat=True))
    planted = {
        "over_card_limit", "over_payee_cap", "split_purchase", "card_type_mismatch",
        "blocked_merchant_category", "outside_working_days", "missing_receipt", "duplicate_charge",
    }  # fmt: skip
    assert planted <= rules
    admin = login_client(logins["bpkad.deliserdang"])
    assert admin.get(reverse("kkpd:dashboard", kwargs=DELI)).status_code == 200
    assert admin.get(reverse("kkpd:import", kwargs=DELI)).status_code == 200
    inspector = login_client(logins["inspektorat.deliserdang"])
    assert inspector.get(reverse("kkpd:flags", kwargs=DELI)).status_code == 200
    assert inspector.get(reverse("kkpd:import", kwargs=DELI)).status_code == 403
    holder = login_client(logins["kkpd.dinkes.deliserdang"])
    cards = holder.get(reverse("kkpd:cards", kwargs=DELI)).content.decode()
    assert "Dinas Kesehatan" in cards and "Dinas Pendidikan" not in cards
    assert login_client(logins["admin.medan"]).get(reverse("kkpd:dashboard", kwargs=DELI)).status_code == 404
    assert Client().get(reverse("kkpd:public", kwargs=DELI)).status_code == 200
