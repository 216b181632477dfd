"""A national-size synthetic cycle for load benchmarks (``cityeval manage load_national``).

Everything here is synthetic: 550 regions ("Region 001" …) in 38 provinces, 50 of them in the
KPPN_IKN group, each with a regional admin; the full gmsc-2024 item set; panels of five
regions scored by five assessors each (from a pool, so an assessor sits on several panels),
every first mark submitted, with feedback; a self-assessment answer for two items in three;
a split-mode impact survey per region (18 forms) sharing ~495,000 responses. The cycle is
computed (closed, results stored) and then reopened, so the pages show an open cycle with
current results, as during a cycle's second stage. Deterministic for a given seed; users get
no usable password (log in with ``cityeval manage changepassword`` or a session).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cityeval.engine.survey import AGE_BANDS, SEXES
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.panels.models import Feedback, ItemScore, Panel, PanelMember, PanelRegion, ScoreSubmission
from cityeval.web.programmes.models import Programme
from cityeval.web.regions.models import Opd, Province, Region
from cityeval.web.results.services import results_compute
from cityeval.web.surveys.models import Mode, Response, SurveyForm
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save

CYCLE = "national-2024"
FRAMEWORK = "gmsc-2024"
REGIONS = 550
RESPONSES = 495_000
PROVINCES = 38
KPPN_SHARE = 11  # one region in eleven is KPPN_IKN: 50 of 550
PANEL_SIZE = 5  # regions per panel, and assessors per panel
ASSESSOR_POOL = 25
BATCH = 5000
_FIRST_DAY = dt.datetime(2024, 9, 2, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class NationalCounts:
    regions: int
    panels: int
    scores: int
    answers: int
    forms: int
    responses: int


def load_national(
    *,
    regions: int = REGIONS,
    responses: int = RESPONSES,
    assessors: int = ASSESSOR_POOL,
    seed: int = 2024,
    say: Callable[[str], None] = print,
) -> NationalCounts:
    """Load the national cycle into a database that does not have it yet; return the counts.
    Panel ``n`` is given assessors ``5n … 5n+4`` of the pool of ``assessors`` (at least five),
    round the pool, so each assessor sits on ``panels × 5 / assessors`` panels."""
    if assessors < PANEL_SIZE:
        raise ValueError(f"a pool of at least {PANEL_SIZE} assessors is needed")
    if Cycle.objects.filter(slug=CYCLE).exists():
        raise ValueError(f"the cycle {CYCLE!r} is loaded already: load into an empty database")
    rng = random.Random(seed)
    with transaction.atomic():
        cycle, participations = _cycle(regions)
        say(f"{len(participations)} regions, cycle {CYCLE} ({FRAMEWORK})")
        admins = _users(participations, assessors)
        answers = _answers(participations, admins, rng)
        say(f"{answers:,} self-assessment answers")
        panels, scores = _panels(cycle, participations, rng)
        say(f"{panels} panels, {scores:,} assessor marks")
        forms, stored = _surveys(participations, responses, rng, say)
        say(f"{forms} survey forms, {stored:,} responses")
    coordinator = get_user_model().objects.get(username="koordinator")
    Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.CLOSED)
    run = results_compute(cycle=cycle, user=coordinator)
    Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.OPEN)  # reopened: stage II goes on
    say(f"results computed ({run.regions.count()} regions) and the cycle reopened")
    return NationalCounts(len(participations), panels, scores, answers, forms, stored)


def _cycle(count: int) -> tuple[Cycle, list[Participation]]:
    provinces = Province.objects.bulk_create(Province(name=f"Provinsi {p + 1:02d}") for p in range(PROVINCES))
    regions = Region.objects.bulk_create(
        Region(
            name=f"Region {r + 1:03d}", slug=f"region-{r + 1:03d}", province=provinces[r % PROVINCES],
            kind="kota" if r % 5 == 0 else "kabupaten",
        )
        for r in range(count)
    )  # fmt: skip
    cycle = Cycle.objects.create(
        slug=CYCLE, name="GMSC 2024 (nasional, sintetis)", year=2024,
        framework=framework_version_builtin(FRAMEWORK),
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    for kind, month in ((Stage.Kind.STAGE_I, 8), (Stage.Kind.STAGE_II, 11)):
        Stage.objects.create(
            cycle=cycle, kind=kind, starts_on=dt.date(2024, month, 4), ends_on=dt.date(2024, month, 22)
        )
    Participation.objects.bulk_create(
        Participation(cycle=cycle, region=region, group="KPPN_IKN" if r % KPPN_SHARE == 0 else "REGULER")
        for r, region in enumerate(regions)
    )
    # Read back: bulk_create sets primary keys on PostgreSQL, not on every SQLite version.
    participations = list(Participation.objects.filter(cycle=cycle).select_related("region", "cycle"))
    return cycle, participations


def _users(participations: list[Participation], pool: int) -> dict[int, User]:
    """The coordinator, the assessor pool and one regional admin per region (no passwords)."""
    users = get_user_model()
    unusable = make_password(None)
    names = ["koordinator", *(f"asesor{a + 1:02d}" for a in range(pool))]
    names += [f"admin.{p.region.slug}" for p in participations]
    users.objects.bulk_create(users(username=name, password=unusable) for name in names)
    by_name = {u.username: u for u in users.objects.filter(username__in=names)}
    memberships = [Membership(user=by_name["koordinator"], role=Role.COORDINATOR)]
    memberships += [Membership(user=by_name[n], role=Role.ASSESSOR) for n in names[1 : pool + 1]]
    memberships += [
        Membership(user=by_name[f"admin.{p.region.slug}"], role=Role.REGIONAL_ADMIN, region=p.region)
        for p in participations
    ]
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    return {p.pk: by_name[f"admin.{p.region.slug}"] for p in participations}


def _answers(participations: list[Participation], admins: dict[int, User], rng: random.Random) -> int:
    framework = participations[0].cycle.framework.framework
    rows = [
        AnswerRevision(participation=p, item=item.code, level=float(rng.randint(0, 4)), author=admins[p.pk])
        for p in participations
        for index, (_component, item) in enumerate(framework.items_for(p.group))
        if index % 3 != 2
    ]
    AnswerRevision.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def _panels(cycle: Cycle, participations: list[Participation], rng: random.Random) -> tuple[int, int]:
    """Panels of five regions at stage II, five assessors each; every assessor's first marks,
    submitted, and their feedback."""
    framework = cycle.framework.framework
    pool = list(get_user_model().objects.filter(username__startswith="asesor").order_by("username"))
    chunks = [participations[s : s + PANEL_SIZE] for s in range(0, len(participations), PANEL_SIZE)]
    panels = Panel.objects.bulk_create(
        Panel(cycle=cycle, stage=Stage.Kind.STAGE_II, name=f"Panel {n + 1:03d}") for n in range(len(chunks))
    )
    panels = list(Panel.objects.filter(cycle=cycle).order_by("name"))
    members, links = [], []
    team_of = {}
    for n, (panel, chunk) in enumerate(zip(panels, chunks, strict=True)):
        team = [pool[(n * PANEL_SIZE + a) % len(pool)] for a in range(PANEL_SIZE)]
        team_of[panel.pk] = team
        members += [
            PanelMember(panel=panel, user=user, affiliation="university", is_chair=a == 0)
            for a, user in enumerate(team)
        ]
        links += [PanelRegion(panel=panel, participation=p, stage=Stage.Kind.STAGE_II) for p in chunk]
    PanelMember.objects.bulk_create(members, batch_size=BATCH)
    PanelRegion.objects.bulk_create(links, batch_size=BATCH)
    count = 0
    scores: list[ItemScore] = []
    submissions: list[ScoreSubmission] = []
    feedback: list[Feedback] = []
    for pr in PanelRegion.objects.filter(panel__cycle=cycle).select_related("participation"):
        ability = rng.uniform(0.5, 3.8)
        team = team_of[pr.panel_id]
        for _component, item in framework.items_for(pr.participation.group):
            for user in team:
                level = float(min(4, max(0, round(ability + rng.gauss(0, 0.7)))))
                scores.append(ItemScore(panel_region=pr, item=item.code, assessor=user, score=level))
        submissions += [ScoreSubmission(panel_region=pr, assessor=user) for user in team]
        feedback += [
            Feedback(panel_region=pr, assessor=user, strengths="Portal data terbuka. " * 4,
                     weaknesses="Laporan OPD terlambat. " * 4, recommendations="Terbitkan rencana aksi. " * 4)
            for user in team
        ]  # fmt: skip
        if len(scores) >= BATCH:
            count += len(scores)
            ItemScore.objects.bulk_create(scores, batch_size=BATCH)
            scores = []
    count += len(scores)
    ItemScore.objects.bulk_create(scores, batch_size=BATCH)
    ScoreSubmission.objects.bulk_create(submissions, batch_size=BATCH)
    Feedback.objects.bulk_create(feedback, batch_size=BATCH)
    return len(panels), count


def _surveys(
    participations: list[Participation], responses: int, rng: random.Random, say: Callable[[str], None]
) -> tuple[int, int]:
    """A split-mode plan and its forms per region, each sub-dimension's service named (a form
    that names none is never opened); ``responses`` spread evenly over the forms."""
    framework = participations[0].cycle.framework.framework
    modes = {d.code: str(Mode.SPLIT) for d in framework.dimensions}
    programmes = _programmes(participations)
    for p in participations:
        entries = {sub: EntryInput(programme=programme) for sub, programme in programmes[p.region_id].items()}
        data = PlanInput(target=50, demographics=True, modes=modes, entries=entries)
        forms_generate(plan=plan_save(participation=p, data=data))
    forms = list(SurveyForm.objects.filter(plan__participation__in=participations).order_by("id"))
    stored, rows = 0, []
    for index, form in enumerate(forms):
        wanted = responses * (index + 1) // len(forms) - responses * index // len(forms)
        centre = rng.uniform(2.2, 3.4)
        rows += [_response(rng, form, centre) for _ in range(wanted)]
        if len(rows) >= BATCH:
            stored += len(Response.objects.bulk_create(rows, batch_size=BATCH))
            rows = []
            if stored // 50_000 != (stored - BATCH) // 50_000:
                say(f"  … {stored:,} responses")
    stored += len(Response.objects.bulk_create(rows, batch_size=BATCH))
    return len(forms), stored


def _programmes(participations: list[Participation]) -> dict[int, dict[str, Programme]]:
    """One synthetic running programme per sub-dimension and region, owned by one OPD each."""
    framework = participations[0].cycle.framework.framework
    opds = Opd.objects.bulk_create(
        [Opd(region=p.region, name="Diskominfo (contoh)", short_name="Diskominfo", slug="diskominfo")
         for p in participations],
        batch_size=BATCH,
    )  # fmt: skip
    rows = [
        Programme(
            region=p.region,
            name=f"Layanan {sub.code} (contoh sintetis)",
            dimension=dimension.code,
            subdimension=sub.code,
            owner=opd,
            status=Programme.Status.RUNNING,
            start_year=p.cycle.year - 1,
        )
        for p, opd in zip(participations, opds, strict=True)
        for dimension in framework.dimensions
        for sub in dimension.subdimensions
    ]
    Programme.objects.bulk_create(rows, batch_size=BATCH)
    out: dict[int, dict[str, Programme]] = {}
    for programme in Programme.objects.filter(region__in=[p.region_id for p in participations]):
        out.setdefault(programme.region_id, {})[programme.subdimension] = programme
    return out


def _response(rng: random.Random, form: SurveyForm, centre: float) -> Response:
    started = _FIRST_DAY + dt.timedelta(days=rng.randrange(45), seconds=rng.randrange(36_000))
    level = rng.gauss(centre, 0.8)
    return Response(
        form=form,
        response_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        source=Response.Source.WEB,
        started_at=started,
        ended_at=started + dt.timedelta(seconds=rng.randrange(120, 900)),
        used_service=True,
        answers={code: min(4, max(0, round(level + rng.gauss(0, 0.45)))) for code in form.statements},
        age_band=rng.choice(AGE_BANDS[:5]),
        sex=rng.choice(list(SEXES)),
        district="Contoh (sintetis)",
    )
