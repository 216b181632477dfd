"""Refusals: one base class, one page, one API shape.

Every exception class the web package defines is a :class:`Refused` (a service saying no, with
a translatable reason) — except the ones listed below with why. A refusal a page's view lets
through becomes the refusal page (403, its reason, a link back); one an endpoint lets through
becomes ``ApiError`` with the refusal's status.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import pytest
from django.test import RequestFactory
from django.utils import translation

import cityeval.web
from cityeval.web.api import api
from cityeval.web.errors import RefusalMiddleware
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.refusals import Refused, refused_page

# Exceptions of the web package that are not a service's refusal of a user's write.
NOT_REFUSALS = {
    "cityeval.web.ops.backup.BackupError": "the operator's backup command fails, on the command line",
    "cityeval.web.audit.models.AuditEntryChanged": "a programming error (code tried to change or "
    "delete an audit entry), never an answer to a user",
    "cityeval.web.jobs.services._FinishedElsewhere": "the job runner's own signal that another run "
    "of the job finished first, so this run's writes roll back; it never leaves the runner",
    "cityeval.web.results.followup_models.FollowUpChanged": "a programming error (code tried to "
    "change or delete a follow-up action's history or evidence), never an answer to a user",
}


def _web_exceptions() -> dict[str, type[BaseException]]:
    found = {}
    for module in pkgutil.walk_packages(cityeval.web.__path__, "cityeval.web."):
        if ".migrations" in module.name or module.name.endswith(("wsgi", "asgi")):
            continue
        loaded = importlib.import_module(module.name)
        for _name, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__.startswith("cityeval.web"):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_refusal_class_subclasses_the_base():
    classes = _web_exceptions()
    # a guard against a walk that finds nothing: these are refusals of four apps
    assert {
        "cityeval.web.evaluations.phases.CycleClosed",
        "cityeval.web.panels.services.ScoreRejected",
        "cityeval.web.surveys.services.InvalidInput",
        "cityeval.web.results.services.ResultsRefused",
    } <= classes.keys()
    strays = sorted(name for name, cls in classes.items() if not issubclass(cls, Refused))
    assert strays == sorted(NOT_REFUSALS)


def test_the_old_phase_refusals_are_gone():
    """One refusal type for "the cycle does not allow this": the per-app copies are removed."""
    names = {name.rsplit(".", 1)[1] for name in _web_exceptions()}
    assert not names & {"PanelsClosed", "SelfAssessmentClosed", "CriteriaClosed", "CycleNotOpen"}


def test_the_message_is_translated_where_it_is_shown():
    """A default message is a lazy translation: made in one language, shown in another."""
    refusal = CycleClosed()
    with translation.override("en"):
        english = str(refusal)
    with translation.override("id"):
        indonesian = str(refusal)
    assert english == "The cycle does not allow this change now."
    assert indonesian != english


@pytest.mark.django_db
def test_a_refusal_a_page_lets_through_becomes_the_refusal_page():
    request = RequestFactory().post("/panels/cycles/gmsc-2024/import/")
    response = RefusalMiddleware(lambda r: None).process_exception(request, CycleClosed("Closed, sorry."))
    assert response is not None and response.status_code == 403
    page = response.content.decode()
    assert 'id="read-only">Closed, sorry.</p>' in page
    assert 'href="/panels/cycles/gmsc-2024/"' in page  # back to the page the action belongs to


@pytest.mark.django_db
def test_other_exceptions_and_the_api_are_left_alone():
    middleware = RefusalMiddleware(lambda r: None)
    assert middleware.process_exception(RequestFactory().post("/panels/"), ValueError("x")) is None
    assert middleware.process_exception(RequestFactory().post("/api/x"), CycleClosed("x")) is None


def test_the_api_answers_a_refusal_as_api_error_with_its_status():
    request = RequestFactory().post("/api/x")
    response = api.on_exception(request, CycleClosed("Closed, sorry."))
    assert response.status_code == 403
    assert json.loads(response.content) == {"detail": "Closed, sorry.", "errors": {}}


@pytest.mark.django_db
def test_the_page_lists_the_fields_messages():
    from cityeval.web.surveys.services import InvalidInput

    refusal = InvalidInput({"target": ["Too large."], "__all__": ["Check the plan."]})
    response = refused_page(RequestFactory().get("/"), refusal, back="/back/")
    page = response.content.decode()
    assert "<li>Too large.</li>" in page and "<li>Check the plan.</li>" in page
    assert response.status_code == 403
