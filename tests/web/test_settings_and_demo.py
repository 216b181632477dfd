"""Settings are documented; the web demo loads and each printed login sees only its part."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client
from django.urls import reverse

from cityeval.web.demo import load_demo
from tests.helpers.web import login_client

ROOT = Path(__file__).parents[2]


def test_env_example_lists_every_variable_the_settings_read():
    source = (ROOT / "src" / "cityeval" / "web" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_\w+\("([A-Z_]+)"', source)) | {"DATABASE_URL"}
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert read == listed


def test_each_demo_login_sees_only_what_its_role_allows(db, settings):
    settings.LANGUAGE_CODE = "en"
    logins = {login.username: login for login in load_demo()}
    assert set(logins) == {
        "koordinator", "admin.deliserdang", "dinkes.deliserdang", "admin.medan", "asesor",
        "bpkad.deliserdang", "inspektorat.deliserdang", "kkpd.dinkes.deliserdang",
    }  # fmt: skip
    deli = reverse("regions:dashboard", kwargs={"region": "kab-deli-serdang"})
    medan = reverse("regions:dashboard", kwargs={"region": "kota-medan"})
    opds = reverse("regions:opd_list", kwargs={"region": "kab-deli-serdang"})

    coordinator = login_client(logins["koordinator"])
    assert coordinator.get(reverse("evaluations:cycle_list")).status_code == 200
    assert coordinator.get(deli).status_code == 200 and coordinator.get(medan).status_code == 200

    admin = login_client(logins["admin.deliserdang"])
    page = admin.get(deli)
    assert page.status_code == 200 and admin.get(medan).status_code == 404
    assert admin.get(reverse("evaluations:cycle_list")).status_code == 403
    overview = page.context["overview"]
    assert overview.dimensions_without_quick_win == []  # the six real 2024 quick wins, one per dimension
    # Dishub, and the three OPDs only the KKPD demo has (its cards, not programmes).
    assert [o.short_name for o in overview.opds_without_programme] == ["BPKAD", "PUPR", "Dishub", "SETDA"]

    contributor = login_client(logins["dinkes.deliserdang"])
    assert contributor.get(deli).status_code == 200 and contributor.get(medan).status_code == 404
    assert contributor.post(opds, {"name": "Dinas Baru"}).status_code == 403

    other = login_client(logins["admin.medan"])
    assert other.get(deli).status_code == 404 and other.get(medan).status_code == 200

    assessor = login_client(logins["asesor"])
    assert assessor.get(deli).status_code == 404
    assert assessor.get(reverse("panels:mine")).status_code == 200

    # 2024 is published with 2023 as history: improvement and ranks for everyone to see.
    national = Client().get(reverse("results:national", kwargs={"cycle": "gmsc-2024"}))
    assert national.status_code == 200
    region_page = admin.get(
        reverse("results:region", kwargs={"region": "kab-deli-serdang", "cycle": "gmsc-2024"})
    )
    assert region_page.status_code == 200
    # The 2025 cycle is open for trying the self-assessment.
    overview = reverse("assessments:overview", kwargs={"region": "kab-deli-serdang", "cycle": "gmsc-2025"})
    assert admin.get(overview).status_code == 200


def test_the_demo_survey_has_900_respondents_and_flags_the_planted_problems(db):
    from cityeval.web.evaluations.models import Participation
    from cityeval.web.surveys.models import Response
    from cityeval.web.surveys.selectors import quality_of

    load_demo()
    participation = Participation.objects.get(region__slug="kab-deli-serdang", cycle__slug="gmsc-2024")
    assert Response.objects.filter(form__plan__participation=participation).count() == 900
    report = quality_of(participation.survey_plan)
    reasons = report.responses.get_column("reason").drop_nulls().to_list()
    assert "straight_lining" in reasons and "not_user" in reasons
    assert len(report.cross_form) >= 1  # the same phone hash in two forms
