"""Whether a survey form may take answers, and the status its link shows.

A form must name the service it asks about: a respondent cannot judge "the service" without
knowing which one. So a form covering a sub-dimension for which the plan names no programme is
never opened (generating leaves it closed, opening it is refused with what to set, and the
public page treats it as closed), and every page shows the same status the public link has.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.engine import Framework
from cityeval.web.labels import page_language
from cityeval.web.programmes.selectors import subdimension_labels
from cityeval.web.refusals import Refused
from cityeval.web.surveys.models import PlanEntry, SurveyForm

# The status of a form's public link, as the overview's badge shows it: (CSS class, text).
STATUS_LABELS = {
    "open": ("ok", gettext_lazy("open")),
    "closed": ("bad", gettext_lazy("closed")),
    "unnamed": ("warn", gettext_lazy("not opened: no programme")),
    "cycle_closed": ("bad", gettext_lazy("closed with the cycle")),
}


class FormNotReady(Refused, ValueError):
    """The form does not name the service of every sub-dimension it asks about."""

    status = 409

    def __init__(self, form: SurveyForm, subdimensions: list[str]) -> None:
        labels = subdimension_labels(form.plan.participation.cycle.framework.framework, page_language())
        self.subdimensions = subdimensions
        message = _(
            "The link of form %(code)s was not opened: the form does not say which service it asks "
            "about. Choose the programme or service surveyed for %(subs)s in the survey plan, "
            "generate the forms, then open the link."
        ) % {"code": form.code, "subs": ", ".join(labels.get(s, s) for s in subdimensions)}
        super().__init__(message)


def subdimensions_of(framework: Framework, dimension: str, subdimension: str | None) -> list[str]:
    """The sub-dimension codes a form asks about: its own (split) or its dimension's (combined)."""
    if subdimension:
        return [subdimension]
    return [s.code for d in framework.dimensions if d.code == dimension for s in d.subdimensions]


def unnamed_subdimensions(form: SurveyForm) -> list[str]:
    """The form's sub-dimensions whose service the plan does not name (no programme chosen)."""
    framework = form.plan.participation.cycle.framework.framework
    return unnamed_of(form, subdimensions_of(framework, form.dimension, form.subdimension))


def unnamed_of(form: SurveyForm, subdimensions: list[str]) -> list[str]:
    """Which of ``subdimensions`` the form's plan names no programme for, read now."""
    named = set(
        PlanEntry.objects.filter(plan_id=form.plan_id, programme__isnull=False)
        .order_by()
        .values_list("subdimension", flat=True)
    )
    return [sub for sub in subdimensions if sub not in named]


def link_status(*, is_open: bool, cycle_open: bool, unnamed: bool) -> str:
    """The status the public link has (a key of STATUS_LABELS), in the order the public page
    checks it: a closed cycle closes every link, then a form without its programme, then the
    link's own switch."""
    if not cycle_open:
        return "cycle_closed"
    if unnamed:
        return "unnamed"
    return "open" if is_open else "closed"
