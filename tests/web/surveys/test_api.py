"""The survey API: forms and statistics for members (404 outsiders, 401 anonymous) and the
public, idempotent submission endpoint."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client, override_settings

from cityeval.web.accounts.services import token_create
from cityeval.web.surveys.models import Response
from tests.helpers.web_surveys import CYCLE, OUTSIDERS, READERS, REGION_A, persona, respond, started_ago


def api(rest: str, region: str = REGION_A) -> str:
    return f"/api/regions/{region}/cycles/{CYCLE}/survey{rest}"


def submit_url(form) -> str:
    return f"/api/survey/{form.token}/responses"


def payload(form, *, ago: float = 300, **changes) -> dict:
    """A response to ``form`` as a client sends it, with the response id and start token handed
    out ``ago`` seconds before."""
    response_id = changes.pop("response_id", str(uuid.uuid4()))
    data = {
        "response_id": response_id, "started": started_ago(ago, form=form, response_id=response_id),
        "used_service": True, "answers": {"service.1": 4, "service.2": 3, "service.3": 2},
        "age_band": "35-44", "sex": "m",
    }  # fmt: skip
    data.update(changes)
    return data


def post(client: Client, path: str, data: dict):
    return client.post(path, json.dumps(data), content_type="application/json")


@pytest.mark.parametrize("name", READERS)
def test_members_list_the_forms_with_counts(request, as_user, service_form, name):
    Response.objects.create(form=service_form, response_id="r-0000001", source="web", used_service=True,
                            answers={"service.1": 4, "service.2": 3, "service.3": 2})  # fmt: skip
    response = as_user(persona(request, name)).get(api("/forms"))
    assert response.status_code == 200
    forms = {f["code"]: f for f in response.json()}
    assert len(forms) == 18
    service = forms["service"]
    assert (service["received"], service["valid"], service["target"]) == (1, 1, 50)
    assert service["url"] == f"http://testserver/s/{service_form.token}/"
    assert service["statements"] == ["service.1", "service.2", "service.3"]
    assert service["known_users"] == 1500


@pytest.mark.parametrize("name", READERS)
def test_members_read_the_statistics(request, as_user, service_form, name):
    for value in (4, 4, 3, 2):
        respond(service_form, {"service.1": value, "service.2": (value + 1) % 5, "service.3": 1})
    body = as_user(persona(request, name)).get(api("/stats")).json()
    assert body["sample"] == "non-probability" and body["weighted"] is False
    one = next(s for s in body["statements"] if s["statement"] == "service.1")
    assert (one["n"], one["mean"], one["counts"]) == (4, 3.25, [0, 0, 1, 1, 2])
    assert "non-probability" in one["method"]
    [alpha] = [a for a in body["alphas"] if a["subdimension"] == "service"]
    assert alpha["n"] == 4 and alpha["k"] == 3


@pytest.mark.parametrize("name", OUTSIDERS)
@pytest.mark.parametrize("rest", ["/forms", "/stats"])
def test_outsiders_get_404_from_the_survey_api(request, as_user, service_form, name, rest):
    assert as_user(persona(request, name)).get(api(rest)).status_code == 404


@pytest.mark.parametrize("rest", ["/forms", "/stats"])
def test_anonymous_callers_get_401_from_the_survey_api(as_user, service_form, rest):
    assert as_user(None).get(api(rest)).status_code == 401


def test_a_bearer_token_reads_the_forms(admin_a, service_form):
    token = token_create(user=admin_a, name="script")
    response = Client().get(api("/forms"), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_anyone_submits_a_response_once_by_its_id(service_form):
    data = payload(service_form)
    first = post(Client(), submit_url(service_form), data)
    again = post(Client(), submit_url(service_form), data)
    assert first.status_code == 201 and first.json() == {"response_id": data["response_id"], "created": True}
    assert again.status_code == 200 and again.json()["created"] is False
    assert Response.objects.filter(form=service_form).count() == 1


def test_the_submission_endpoint_needs_no_csrf_token(service_form):
    response = post(Client(enforce_csrf_checks=True), submit_url(service_form), payload(service_form))
    assert response.status_code == 201


def test_an_unknown_token_is_404(service_form):
    assert post(Client(), "/api/survey/nope/responses", payload(service_form)).status_code == 404


def test_a_closed_link_answers_409(service_form):
    service_form.is_open = False
    service_form.save()
    assert post(Client(), submit_url(service_form), payload(service_form)).status_code == 409
    assert Response.objects.count() == 0


def test_invalid_answers_answer_422_naming_the_field(service_form):
    response = post(
        Client(),
        submit_url(service_form),
        payload(service_form, answers={"service.1": 5, "service.2": 1, "service.3": 1}),
    )
    assert response.status_code == 422
    assert "service.1" in response.json()["errors"]
    assert Response.objects.count() == 0


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=1)
def test_the_abuse_limit_answers_429(service_form):
    assert post(Client(), submit_url(service_form), payload(service_form)).status_code == 201
    assert post(Client(), submit_url(service_form), payload(service_form)).status_code == 429


@pytest.mark.parametrize("name", ["anonymous", "admin_b", "opd_a", "admin_a"])
def test_nobody_marks_an_api_response_assisted(request, as_user, service_form, name):
    """The endpoint has no CSRF check, so it ignores the session: even the region's staff
    cannot set ``assisted`` through it (422, nothing stored) — they use the web form."""
    response = post(
        as_user(persona(request, name)), submit_url(service_form), payload(service_form, assisted=True)
    )
    assert response.status_code == 422
    assert "assisted" in response.json()["errors"]
    assert Response.objects.count() == 0


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=3)
def test_a_logged_in_admin_gets_nothing_from_the_session_cookie(admin_a, service_form):
    """A cross-site post riding admin_a's session cookie: no CSRF token, assisted=true."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    forged = post(client, submit_url(service_form), payload(service_form, assisted=True))
    assert forged.status_code == 422
    assert Response.objects.count() == 0
    # Without the flag the post is an anonymous one: held to the per-address limit.
    for _ in range(3):
        assert post(client, submit_url(service_form), payload(service_form)).status_code == 201
    assert post(client, submit_url(service_form), payload(service_form)).status_code == 429
    assert Response.objects.count() == 3
    assert not Response.objects.filter(assisted=True).exists()
    assert not Response.objects.exclude(assisted_by=None).exists()


def test_api_responses_carry_the_start_tokens_timing(service_form):
    data = payload(service_form, started_at="2024-01-01T00:00:00Z")
    assert post(Client(), submit_url(service_form), data).status_code == 201
    stored = Response.objects.get(response_id=data["response_id"])
    assert 299 <= (stored.ended_at - stored.started_at).total_seconds() <= 330


# --- the start token ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["anonymous", "admin_a", "admin_b", "nobody"])
def test_anyone_gets_a_start_token_that_the_submission_accepts(request, as_user, service_form, name):
    """Public by design, like the link itself: the token is a signed start time for the one
    response id handed out with it."""
    start = as_user(persona(request, name)).get(f"/api/survey/{service_form.token}/start")
    assert start.status_code == 200
    body = start.json()
    assert body["expires_in"] == 24 * 3600
    assert uuid.UUID(body["response_id"]).version == 4
    data = payload(service_form, response_id=body["response_id"], started=body["started"])
    assert post(Client(), submit_url(service_form), data).status_code == 201
    assert Response.objects.get(response_id=data["response_id"]).started_at is not None


def test_each_start_hands_out_its_own_response_id(service_form):
    starts = [Client().get(f"/api/survey/{service_form.token}/start").json() for _ in range(2)]
    assert starts[0]["response_id"] != starts[1]["response_id"]
    assert starts[0]["started"] != starts[1]["started"]


def test_one_start_token_stores_one_response(service_form, plan):
    """The review's attack: one five-minute-old token sent with 10 new response ids to this
    form and 10 to another form. Before the fix all 20 were stored with its start time; now
    each must carry the response id it was handed out with, for its form: 20 refusals (422),
    nothing stored. Sent with its own id, it stores one response; again, it stores nothing
    more (the same response, 200)."""
    other = plan.forms.exclude(pk=service_form.pk).first()
    token_rid = str(uuid.uuid4())
    token = started_ago(300, form=service_form, response_id=token_rid)
    for form in (service_form, other):
        for _ in range(10):
            data = payload(service_form, started=token)  # a new response id each time
            assert post(Client(), submit_url(form), data).status_code == 422
    assert Response.objects.count() == 0
    own = payload(service_form, response_id=token_rid, started=token)
    assert post(Client(), submit_url(service_form), own).status_code == 201
    assert post(Client(), submit_url(service_form), own).status_code == 200
    assert Response.objects.count() == 1


def test_a_response_id_other_than_the_start_tokens_is_refused_clearly(service_form):
    """A genuine token of this form sent with another id: 422 naming ``response_id``."""
    start = Client().get(f"/api/survey/{service_form.token}/start").json()
    data = payload(service_form, started=start["started"])
    response = post(Client(), submit_url(service_form), data)
    assert response.status_code == 422
    body = response.json()
    assert "not the one handed out with the start token" in body["errors"]["response_id"][0]
    assert Response.objects.count() == 0


def test_an_unknown_form_has_no_start_token(world):
    assert Client().get("/api/survey/nope/start").status_code == 404


def test_a_closed_link_gives_no_start_token(service_form):
    service_form.is_open = False
    service_form.save()
    response = Client().get(f"/api/survey/{service_form.token}/start")
    assert response.status_code == 409 and response.json()["detail"] == "This survey link is closed."


def _bad_start(kind: str, form, other, response_id: str) -> str | None:
    good = started_ago(300, form=form, response_id=response_id)
    return {
        "missing": None,
        "garbage": "forged",
        "bad-signature": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "over-24h": started_ago(25 * 3600, form=form, response_id=response_id),
        "other-form": started_ago(300, form=other, response_id=response_id),
    }[kind]


@pytest.mark.parametrize("kind", ["missing", "garbage", "bad-signature", "over-24h", "other-form"])
def test_a_submission_without_a_valid_start_token_is_refused_with_422(service_form, plan, kind):
    other = plan.forms.exclude(pk=service_form.pk).first()
    data = payload(service_form)
    started = _bad_start(kind, service_form, other, data["response_id"])
    if started is None:
        del data["started"]
    else:
        data["started"] = started
    response = post(Client(), submit_url(service_form), data)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid response."
    assert "GET /api/survey/{token}/start" in body["errors"]["started"][0]
    assert Response.objects.count() == 0


def test_a_submission_too_soon_after_its_start_is_stored_and_excluded_as_on_the_web(service_form):
    """5 seconds from start to submission (the threshold is 60 s): stored, like a too-fast web
    response, and excluded by the quality check."""
    from cityeval.web.surveys.selectors import quality_of

    data = payload(service_form, ago=5)
    assert post(Client(), submit_url(service_form), data).status_code == 201
    report = quality_of(service_form.plan)
    assert report is not None
    assert report.responses.filter(response_id=data["response_id"])["reason"].to_list() == ["too_fast"]


# --- one respondent's flow stays cheap, and reads what it decides on fresh -------------------------


def _start_and_submit(form, *, ip: str = "10.7.0.1"):
    client = Client(REMOTE_ADDR=ip)
    start = client.get(f"/api/survey/{form.token}/start")
    if start.status_code != 200:
        return start, None
    body = start.json()
    data = payload(form, response_id=body["response_id"], started=body["started"])
    return start, post(client, submit_url(form), data)


def test_the_api_refuses_at_once_what_was_closed_a_moment_ago(world, service_form):
    """Nothing the flow decides on is remembered between calls: the link's switch, the cycle's
    status and the plan's programme are read again by every start and every submission."""
    from cityeval.web.evaluations.models import Cycle
    from cityeval.web.surveys.models import PlanEntry
    from cityeval.web.surveys.plans import form_set_open

    start, submitted = _start_and_submit(service_form)
    assert (start.status_code, submitted.status_code) == (200, 201)
    open_start = Client().get(f"/api/survey/{service_form.token}/start").json()
    form_set_open(form=service_form, is_open=False)
    late = payload(service_form, response_id=open_start["response_id"], started=open_start["started"])
    assert post(Client(), submit_url(service_form), late).status_code == 409
    assert Client().get(f"/api/survey/{service_form.token}/start").status_code == 409
    form_set_open(form=service_form, is_open=True)
    assert post(Client(), submit_url(service_form), late).status_code == 201
    entry = PlanEntry.objects.get(plan=service_form.plan, subdimension="service")
    programme = entry.programme
    PlanEntry.objects.filter(pk=entry.pk).update(programme=None)
    assert [r.status_code for r in _start_and_submit(service_form, ip="10.7.0.2") if r] == [409]
    PlanEntry.objects.filter(pk=entry.pk).update(programme=programme)
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    assert [r.status_code for r in _start_and_submit(service_form, ip="10.7.0.3") if r] == [409]
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.OPEN)
    start, submitted = _start_and_submit(service_form, ip="10.7.0.4")
    assert (start.status_code, submitted.status_code) == (200, 201)
    assert Response.objects.filter(form=service_form).count() == 3


def test_a_combined_form_takes_api_responses_only_while_each_service_is_named(world, e_padi, lapor):
    """The combined governance form asks about service, policy and bureaucracy: its
    sub-dimensions come from the cycle's framework (read by its content hash, not joined with
    the form), and every one must name its programme."""
    from cityeval.web.evaluations.models import framework_of
    from cityeval.web.programmes.models import Programme
    from cityeval.web.surveys.models import PlanEntry
    from cityeval.web.surveys.plans import EntryInput, PlanInput, form_set_open, forms_generate, plan_save

    spkd = Programme.objects.create(
        region=world.region_a, name="Satu Data Deli", dimension="governance", subdimension="bureaucracy",
        owner=world.opd_health, status="running", start_year=2021,
    )  # fmt: skip
    entries = {"service": e_padi, "policy": lapor, "bureaucracy": spkd}
    data = PlanInput(
        target=50, demographics=False, modes={"governance": "combined"},
        entries={sub: EntryInput(programme=p) for sub, p in entries.items()},
    )  # fmt: skip
    plan = plan_save(participation=world.participation_a, data=data)
    forms_generate(plan=plan)
    governance = plan.forms.get(code="governance")
    form_set_open(form=governance, is_open=True)
    digest = world.cycle.framework.digest
    assert framework_of(digest).hash == digest  # the framework stored under that hash
    governance_subs = [
        s.code for d in framework_of(digest).dimensions if d.code == "governance" for s in d.subdimensions
    ]
    assert governance_subs == ["service", "policy", "bureaucracy"]
    client = Client(REMOTE_ADDR="10.8.0.1")
    start = client.get(f"/api/survey/{governance.token}/start")
    assert start.status_code == 200
    answers = {code: 2 for code in governance.statements}
    body = {"response_id": start.json()["response_id"], "started": start.json()["started"],
            "used_service": True, "answers": answers}  # fmt: skip
    PlanEntry.objects.filter(plan=plan, subdimension="bureaucracy").update(programme=None)
    assert client.get(f"/api/survey/{governance.token}/start").status_code == 409
    assert post(client, submit_url(governance), body).status_code == 409
    PlanEntry.objects.filter(plan=plan, subdimension="bureaucracy").update(programme=spkd)
    assert post(client, submit_url(governance), body).status_code == 201
    assert Response.objects.filter(form=governance).count() == 1


def test_one_respondents_flow_asks_the_database_little(service_form):
    """A start reads the form, then its cycle (reached from its plan, with the framework's hash
    and, for a split form, whether its programme is named): 2 statements. A submission adds the
    stored-id check, the two counters (one statement each) and the insert: 6 — it was 3 and 16
    (plus four BEGIN/COMMIT) before issue 13's work. Savepoints the test's own transaction
    needs and the hourly sweep of old counters are not counted."""
    from django.db import connection

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", 'DELETE FROM "surveys_ratecounter"')):
            statements.append(sql)
        return execute(sql, params, many, context)

    client = Client(REMOTE_ADDR="10.9.0.1")
    with connection.execute_wrapper(record):
        start = client.get(f"/api/survey/{service_form.token}/start").json()
    assert len(statements) == 2
    statements.clear()
    data = payload(service_form, response_id=start["response_id"], started=start["started"])
    with connection.execute_wrapper(record):
        assert post(client, submit_url(service_form), data).status_code == 201
    assert len(statements) == 6
    assert sum(s.startswith('INSERT INTO "surveys_ratecounter"') for s in statements) == 2


@pytest.mark.django_db(transaction=True)
def test_a_submission_losing_the_race_for_its_id_outside_a_transaction_answers_200(monkeypatch, service_form):
    """As in production, no transaction is held around the insert (one INSERT is atomic): when
    another request stores the same id between the check and the insert, the insert fails,
    nothing is left half done, and the caller gets the stored response (200, created false)."""
    from cityeval.web.surveys import responses

    data = payload(service_form)
    real = responses.form_accepts_responses

    def other_request_wins(form):
        Response.objects.create(form=form, response_id=data["response_id"], source="web", answers={})
        return real(form)

    monkeypatch.setattr(responses, "form_accepts_responses", other_request_wins)
    response = post(Client(), submit_url(service_form), data)
    assert response.status_code == 200 and response.json()["created"] is False
    assert Response.objects.filter(response_id=data["response_id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_form_deleted_during_a_submission_is_refused_as_closed_not_500(monkeypatch, service_form):
    """The form is read, then its plan is deleted by another request before the open check: the
    submission is refused as for a closed link (409) and nothing is stored (it was a 500)."""
    from cityeval.web.surveys import responses
    from cityeval.web.surveys.models import SurveyPlan

    data = payload(service_form)
    real = responses.form_accepts_responses

    def plan_deleted_meanwhile(form):
        SurveyPlan.objects.filter(pk=form.plan_id).delete()
        return real(form)

    monkeypatch.setattr(responses, "form_accepts_responses", plan_deleted_meanwhile)
    response = post(Client(), submit_url(service_form), data)
    assert response.status_code == 409
    assert not Response.objects.filter(response_id=data["response_id"]).exists()
