"""Load the demo into the web app: the synthetic Deli Serdang 2024 evaluation (cityeval.demo),
published, with 2023 imported as history, its impact survey, and an open 2025 cycle to try
(Deli Serdang's 2025 survey forms are open, each naming the programme it asks about).

Real: the region names and provinces, Deli Serdang's six 2024 quick wins and their owning OPDs
(docs/domain.md §6). Synthetic: everything else — users, the other programmes, the self-assessment
answers (derived from the demo's generated assessor scores). Each run starts from an empty
database, and the passwords are new each time.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import polars as pl
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cityeval import demo, kkpd_demo
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.assessments.models import AnswerRevision, ItemAssignment
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.kkpd.demo import load_kkpd_demo
from cityeval.web.programmes.models import Programme
from cityeval.web.regions.models import Opd, Province, Region
from cityeval.web.regions.services import opd_create, region_kind_from_name, unique_slug
from cityeval.web.results.demo import load_results_demo
from cityeval.web.surveys.demo import load_survey_demo, load_survey_forms_demo

# Deli Serdang's OPDs: the six quick-win owners (real, docs/domain.md §6) and the two offices that
# run the evaluation in a region (Diskominfo, Bappeda), plus one with no programme yet, so
# the dashboard shows a gap.
OPDS = (
    ("Badan Pendapatan Daerah", "Bapenda"),
    ("Dinas Pertanian", "Distan"),
    ("Dinas Perumahan, Kawasan Permukiman dan Penataan Ruang", "Perkim"),
    ("Dinas Kesehatan", "Dinkes"),
    ("Dinas Kebudayaan, Kepemudaan, Olahraga dan Pariwisata", "Disbudporapar"),
    ("Dinas Pendidikan", "Disdik"),
    ("Dinas Komunikasi dan Informatika", "Diskominfo"),
    ("Badan Perencanaan Pembangunan Daerah", "Bappeda"),
    ("Dinas Perhubungan", "Dishub"),
    ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "DPMPTSP"),
    ("Dinas Lingkungan Hidup", "DLH"),
    ("Dinas Perindustrian dan Perdagangan", "Disperindag"),
)
QUICK_WIN_OWNERS = {
    "E-Padi": "Bapenda",
    "Pemuda Kaperle": "Distan",
    "Petasan Deli": "Perkim",
    "Patogen": "Dinkes",
    "Deli Serdang Berseri": "Disbudporapar",
    "Kas Anak Kasir": "Disdik",
}
# Synthetic other programmes: (name, dimension, sub-dimension, owner, status, start year).
OTHER_PROGRAMMES = (
    ("Satu Data Deli Serdang", "governance", "bureaucracy", "Diskominfo", "running", 2021),
    ("Command center kabupaten", "society", "security", "Diskominfo", "running", 2020),
    ("Musrenbang daring", "governance", "policy", "Bappeda", "running", 2022),
    ("Pembayaran retribusi nontunai", "economy", "transaction", "Bapenda", "running", 2023),
    ("Telemedisin puskesmas", "living", "health", "Dinkes", "planned", 2025),
    # One per sub-dimension the quick wins and the above leave open, so that every survey form
    # names the service it asks about (a form without its programme is never opened).
    ("Peta Peluang Investasi Deli Serdang", "branding", "business", "DPMPTSP", "running", 2022),
    ("Penataan Wajah Kota Lubuk Pakam", "branding", "appearance", "Perkim", "running", 2023),
    ("Gerai Produk Unggulan Daerah", "economy", "industry", "Disperindag", "running", 2022),
    ("Informasi Tata Ruang Daring", "living", "harmony", "Perkim", "running", 2021),
    ("Wifi Publik Desa", "living", "mobility", "Diskominfo", "running", 2022),
    ("Relawan TIK Deli Serdang", "society", "community", "Diskominfo", "running", 2021),
    ("Pemantauan Kualitas Udara dan Air Sungai", "environment", "protection", "DLH", "running", 2023),
    ("Penerangan Jalan Tenaga Surya Desa", "environment", "energy", "DLH", "running", 2024),
)
SUBDIMENSION_OF_QUICK_WIN = {
    "governance": "service",
    "economy": "welfare",
    "environment": "waste",
    "living": "health",
    "branding": "tourism",
    "society": "learning",
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    sees: str


@transaction.atomic
def load_demo() -> list[DemoLogin]:
    """Fill an empty database with the demo; return one login per role."""
    regions = _regions()
    home = regions[demo.HOME]
    opds = {short: opd_create(region=home, name=name, short_name=short) for name, short in OPDS}
    # Medan's OPD exists so that its admin sees a populated page.
    opd_create(region=regions["Kota Medan"], name="Dinas Kesehatan", short_name="Dinkes")
    _programmes(home, opds)
    cycle = _cycle_2024(regions)
    participation = Participation.objects.get(cycle=cycle, region=home)
    logins = _users(home, opds["Dinkes"], regions["Kota Medan"])
    _self_assessment(participation, opds, author=get_user_model().objects.get(username=logins[1].username))
    programmes = _surveyed_programmes(home)
    load_survey_demo(participation=participation, programmes_by_subdimension=programmes)
    users = get_user_model().objects
    load_results_demo(
        cycle=cycle,
        regions=regions,
        scores=demo.demo_scores(cycle.framework.framework),
        coordinator=users.get(username="koordinator"),
        assessor_users=[users.get(username="asesor")],
    )
    cycle_2025 = _cycle_2025(regions)
    # The open cycle's forms, with no responses yet: links a citizen can open and answer.
    load_survey_forms_demo(
        participation=Participation.objects.get(cycle=cycle_2025, region=home),
        programmes_by_subdimension=programmes,
    )
    _kkpd(home, users.get(username="bpkad.deliserdang"))
    return logins


# The KKPD demo names one OPD differently from this demo's list.
KKPD_OPD_ALIASES = {
    "Dinas Kebudayaan, Pemuda, Olahraga dan Pariwisata": (
        "Dinas Kebudayaan, Kepemudaan, Olahraga dan Pariwisata"
    )
}


def _kkpd(home: Region, admin) -> None:
    """The synthetic KKPD year of Deli Serdang; the KKPD demo's OPDs missing here are added."""
    by_name = {o.name: o for o in home.opds.all()}
    opds = {}
    for code, name in kkpd_demo.OPDS:
        known = KKPD_OPD_ALIASES.get(name, name)
        opds[name] = by_name.get(known) or opd_create(region=home, name=name, short_name=code)
    load_kkpd_demo(
        region=home, bank_name=kkpd_demo.BANK, data=kkpd_demo.kkpd_demo(), opds=opds, user=admin,
        note=kkpd_demo.SYNTHETIC_NOTE,
    )  # fmt: skip


def _regions() -> dict[str, Region]:
    out: dict[str, Region] = {}
    taken: set[str] = set()
    for r in demo.REGIONS:
        province, _ = Province.objects.get_or_create(name=r.province)
        slug = unique_slug(r.name, taken)
        out[r.name] = Region.objects.create(
            name=r.name, slug=slug, kind=region_kind_from_name(r.name) or "kota", province=province
        )
    return out


def _programmes(home: Region, opds: dict[str, Opd]) -> None:
    for dimension, name, _owner_name in demo.QUICK_WINS:
        Programme.objects.create(
            region=home, name=name, dimension=dimension, subdimension=SUBDIMENSION_OF_QUICK_WIN[dimension],
            owner=opds[QUICK_WIN_OWNERS[name]], status=Programme.Status.RUNNING, start_year=2024,
            is_quick_win=True, description="Quick win 2024 (nama dan OPD: data nyata; uraian: contoh).",
        )  # fmt: skip
    for name, dimension, sub, owner, status, year in OTHER_PROGRAMMES:
        Programme.objects.create(
            region=home, name=name, dimension=dimension, subdimension=sub, owner=opds[owner],
            status=status, start_year=year, description="Contoh sintetis / synthetic example.",
        )  # fmt: skip


def _surveyed_programmes(home: Region) -> dict[str, Programme]:
    """The programme surveyed for each sub-dimension: its quick win if it has one, else the
    running programme started first (a planned programme has no users to ask yet)."""
    chosen: dict[str, Programme] = {}
    programmes = Programme.objects.filter(region=home).exclude(subdimension="")
    for p in programmes.order_by("-is_quick_win", "start_year", "id"):
        if p.status == Programme.Status.RUNNING:
            chosen.setdefault(p.subdimension, p)
    return chosen


def _cycle_2024(regions: dict[str, Region]) -> Cycle:
    framework_version_builtin("gmsc-2023")
    cycle = Cycle.objects.create(
        slug="gmsc-2024", name="GMSC 2024", year=2024, framework=framework_version_builtin("gmsc-2024"),
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_I, starts_on=dt.date(2024, 8, 5), ends_on=dt.date(2024, 8, 9)
    )
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_II, starts_on=dt.date(2024, 11, 11), ends_on=dt.date(2024, 11, 22)
    )
    for r in demo.REGIONS:
        Participation.objects.create(cycle=cycle, region=regions[r.name], group=r.group)
    return cycle


def _cycle_2025(regions: dict[str, Region]) -> Cycle:
    """An open cycle with nothing answered yet, to try the self-assessment (2024 is published)."""
    cycle = Cycle.objects.create(
        slug="gmsc-2025", name="GMSC 2025 (contoh / example)", year=2025,
        framework=framework_version_builtin("gmsc-2024"), status=Cycle.Status.OPEN,
        self_assessment_deadline=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    # Both stages, as every open cycle has them: panels are created per stage.
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_I, starts_on=dt.date(2025, 8, 4), ends_on=dt.date(2025, 8, 8)
    )
    Stage.objects.create(
        cycle=cycle, kind=Stage.Kind.STAGE_II, starts_on=dt.date(2025, 11, 10), ends_on=dt.date(2025, 11, 21)
    )
    for r in demo.REGIONS:
        Participation.objects.create(cycle=cycle, region=regions[r.name], group=r.group)
    return cycle


def _users(home: Region, dinkes: Opd, medan: Region) -> list[DemoLogin]:
    people = (
        ("coordinator", "koordinator", Role.COORDINATOR, None, None, "every cycle and region"),
        ("regional admin", "admin.deliserdang", Role.REGIONAL_ADMIN, home, None, "Kab. Deli Serdang only"),
        ("OPD contributor", "dinkes.deliserdang", Role.OPD_CONTRIBUTOR, home, dinkes,
         "Deli Serdang; answers the Dinas Kesehatan items"),
        ("regional admin (other region)", "admin.medan", Role.REGIONAL_ADMIN, medan, None, "Kota Medan only"),
        ("assessor", "asesor", Role.ASSESSOR, None, None, "a 2024 Stage II panel (published)"),
        ("KKPD administrator (BPKAD)", "bpkad.deliserdang", Role.KKPD_ADMIN, home, None,
         "Deli Serdang's KKPD: imports, corrections, flags"),
        ("KKPD inspector (Inspektorat)", "inspektorat.deliserdang", Role.KKPD_INSPECTOR, home, None,
         "Deli Serdang's KKPD, read-only except flag status"),
        ("KKPD card holder", "kkpd.dinkes.deliserdang", Role.CARD_HOLDER, home, dinkes,
         "the Dinas Kesehatan KKPD cards only"),
    )  # fmt: skip
    logins = []
    for label, username, role, region, opd, sees in people:
        password = secrets.token_urlsafe(9)
        user = get_user_model().objects.create_user(username=username, password=password)
        Membership.objects.create(user=user, role=role, region=region, opd=opd)
        logins.append(DemoLogin(label, username, password, sees))
    return logins


def _self_assessment(participation: Participation, opds: dict[str, Opd], *, author) -> None:
    """Claims for about two thirds of the items: the median of the demo's synthetic panel."""
    framework = participation.cycle.framework.framework
    scores = demo.demo_scores(framework).filter(pl.col("region") == demo.HOME)
    claims = scores.group_by("item").agg(pl.col("score").median().round(0).alias("level")).sort("item")
    for index, row in enumerate(claims.iter_rows(named=True)):
        if index % 3 == 2:
            continue  # left unanswered, so coverage is visible
        AnswerRevision.objects.create(
            participation=participation, item=row["item"], level=row["level"], author=author,
            narrative="Klaim contoh dari data demo sintetis / synthetic demo claim.",
        )  # fmt: skip
    health_items = [i.code for c, i in framework.items_for(participation.group) if c.code == "outcome"][10:14]
    for code in health_items:
        ItemAssignment.objects.create(
            participation=participation, item=code, opd=opds["Dinkes"], assigned_by=author
        )
