"""A synthetic impact survey for the demo: Deli Serdang 2024 in split mode (docs/domain.md §6).

18 forms (one per sub-dimension) × 50 respondents = 900 responses, generated from a seed so
that every run gives the same answers. Everything here is synthetic and says so: the district
of every respondent is "Contoh (sintetis)". Planted problems, which the quality page flags:

- one straight-liner (all 4s) in the first form;
- one respondent who did not use the service, in the first form;
- one respondent (the same phone number, stored only as its salted hash) in the first two forms;
- the second form's service is given 30 known users (docs/domain.md §5: "50 respondents claimed
  for an app with ~30 users"), fewer than its 50 respondents.

Called by ``cityeval.web.demo`` as
``load_survey_demo(participation=..., programmes_by_subdimension={"service": programme, ...})``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Mapping

from django.db import transaction

from cityeval.engine.survey import AGE_BANDS, SEXES
from cityeval.web.evaluations.models import Participation
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import Mode, Response, SurveyForm, SurveyPlan
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from cityeval.web.surveys.responses import identity_hash

RESPONDENTS_PER_FORM = 50
DISTRICT = "Contoh (sintetis)"
REPEATED_PHONE = "0800 0000 0001"  # not a real number: 0800 is not a mobile prefix
SMALL_SERVICE_USERS = 30
_FIRST_DAY = dt.datetime(2024, 9, 2, 8, 0, tzinfo=dt.UTC)


def _answers(rng: random.Random, statements: list[str], centre: float) -> dict[str, int]:
    """A respondent's answers: their own level of satisfaction around the form's centre plus
    a little noise per statement (so the statements correlate, as real answers do, and alpha
    is positive); never all the same (a straight line is planted on purpose, not by chance)."""
    level = rng.gauss(centre, 0.8)
    values = [min(4, max(0, round(level + rng.gauss(0, 0.45)))) for _ in statements]
    if len(set(values)) == 1:
        values[-1] = values[-1] - 1 if values[-1] > 0 else 1
    return dict(zip(statements, values, strict=True))


def _response(rng: random.Random, form: SurveyForm, number: int, centre: float) -> Response:
    started = _FIRST_DAY + dt.timedelta(days=rng.randrange(45), minutes=rng.randrange(10 * 60))
    return Response(
        form=form,
        response_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        source=Response.Source.WEB,
        started_at=started,
        ended_at=started + dt.timedelta(seconds=rng.randrange(120, 900)),
        used_service=True,
        answers=_answers(rng, list(form.statements), centre),
        age_band=rng.choice(AGE_BANDS[:5]),
        sex=rng.choice(list(SEXES)),
        district=DISTRICT,
        assisted=number % 10 == 0,  # some were helped by OPD staff
    )


@transaction.atomic
def load_survey_forms_demo(
    *,
    participation: Participation,
    programmes_by_subdimension: Mapping[str, Programme | None] | None = None,
    known_users_of_second: int | None = None,
) -> SurveyPlan:
    """The demo's survey plan for ``participation`` (split mode everywhere, 50 respondents per
    form) and its generated forms, without responses. ``programmes_by_subdimension`` maps a
    sub-dimension code to the programme surveyed for it; a form whose sub-dimension is left out
    names no service and stays closed."""
    framework = participation.cycle.framework.framework
    chosen = programmes_by_subdimension or {}
    subs = [s.code for d in framework.dimensions for s in d.subdimensions]
    entries = {code: EntryInput(programme=chosen.get(code)) for code in subs}
    entries[subs[1]] = EntryInput(programme=chosen.get(subs[1]), known_users=known_users_of_second)
    plan = plan_save(
        participation=participation,
        data=PlanInput(
            target=RESPONDENTS_PER_FORM,
            demographics=True,
            modes={d.code: Mode.SPLIT for d in framework.dimensions},
            entries=entries,
        ),
    )
    forms_generate(plan=plan)
    return plan


@transaction.atomic
def load_survey_demo(
    *,
    participation: Participation,
    programmes_by_subdimension: Mapping[str, Programme | None] | None = None,
    seed: int = 2024,
) -> None:
    """Plan, forms and 900 synthetic responses for ``participation`` (split mode everywhere).

    ``programmes_by_subdimension`` maps a sub-dimension code (``"service"``…) to the region's
    programme surveyed for it; sub-dimensions left out have no programme. Deterministic for a
    given ``seed``. Expects a participation without survey responses.
    """
    plan = load_survey_forms_demo(
        participation=participation,
        programmes_by_subdimension=programmes_by_subdimension,
        known_users_of_second=SMALL_SERVICE_USERS,
    )
    rng = random.Random(seed)
    forms = list(plan.forms.order_by("id"))
    rows = []
    for form in forms:
        centre = rng.uniform(2.2, 3.4)
        rows += [_response(rng, form, n, centre) for n in range(RESPONDENTS_PER_FORM)]
    first, second = rows[0], rows[1]
    first.answers = {code: 4 for code in first.answers}  # the straight-liner
    second.used_service, second.answers = False, {code: None for code in second.answers}  # a non-user
    repeated = identity_hash(REPEATED_PHONE)
    rows[2].identity_hash = repeated  # the same respondent in the first form …
    rows[RESPONDENTS_PER_FORM + 2].identity_hash = repeated  # … and in the second
    Response.objects.bulk_create(rows)
