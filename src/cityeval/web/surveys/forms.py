"""Forms of the survey pages. They parse and present; the services hold the rules.

The public questionnaire is parsed by :func:`submission_from_post` rather than a Django form:
its markup (a fieldset per statement, radio buttons with text labels) is written out in the
template so that it stays small and accessible on a slow phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityeval.engine import Framework
from cityeval.engine.framework import label_text
from cityeval.engine.survey import AGE_BANDS, SEXES, question_name
from cityeval.web.bounds import POSITIVE_INTEGER_MAX
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import Mode, PlanEntry, SurveyForm, SurveyPlan
from cityeval.web.surveys.plans import EntryInput, PlanInput
from cityeval.web.surveys.responses import Submission

_START_SALT = "cityeval.surveys.started"
START_MAX_AGE = dt.timedelta(hours=24)  # a page left open longer must be reloaded


def started_token(form: SurveyForm, response_id: str) -> str:
    """A signed start stamp put in the page next to its ``response_id`` (or handed out with one
    by ``GET /api/survey/{token}/start``), so the server knows when the respondent started.

    It signs the form's token and the response id with the time: a stamp is good for that one
    response to that one form, and as responses are stored once per (form, response id), one
    stamp cannot vouch for the timing of many responses."""
    return signing.dumps([form.token, response_id, timezone.now().timestamp()], salt=_START_SALT)


def start_stamp(token: str) -> tuple[str, str, dt.datetime] | None:
    """``(form token, response id, start time)`` of a genuine stamp at most 24 hours old; None
    for a missing, forged, expired or malformed one."""
    if not token:
        return None
    try:
        form_token, response_id, stamp = signing.loads(token, salt=_START_SALT, max_age=START_MAX_AGE)
        return str(form_token), str(response_id), dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC)
    except (signing.BadSignature, TypeError, ValueError, OverflowError, OSError):
        return None


def started_at(token: str, *, form: SurveyForm, response_id: str) -> dt.datetime | None:
    """When the page was rendered (or the API handed out the stamp); None — refused by the
    service — unless the stamp is genuine, under 24 hours old and was made for this form and
    this response id."""
    stamp = start_stamp(token)
    if stamp is None or stamp[:2] != (form.token, response_id):
        return None
    return stamp[2]


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get((value or "").strip().lower())


def _answer(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # refused by the service with the field's message


def submission_from_post(form: SurveyForm, data, *, may_assist: bool) -> Submission:
    """What the questionnaire page sent (``data`` is request.POST)."""
    response_id = (data.get("response_id") or "").strip()
    return Submission(
        response_id=response_id,
        used_service=_yes_no(data.get("used_service")),
        answers={code: _answer(data.get(question_name(code))) for code in form.statements},
        age_band=(data.get("age_band") or "").strip() if form.demographics else "",
        sex=(data.get("sex") or "").strip() if form.demographics else "",
        district=(data.get("district") or "").strip() if form.demographics else "",
        phone=(data.get("phone") or "").strip(),
        started_at=started_at(data.get("started") or "", form=form, response_id=response_id),
        assisted=may_assist and data.get("assisted") == "on",
    )


class PlanForm(forms.Form):
    """Target, demographics, a mode per dimension and a programme per sub-dimension."""

    target = forms.IntegerField(label=_("Target respondents per form"), min_value=1, max_value=100_000)
    demographics = forms.BooleanField(label=_("Ask age band, sex and district"), required=False)

    def __init__(
        self, *args, framework: Framework, programmes: list[Programme], language: str, locked: set[str], **kw
    ):
        super().__init__(*args, **kw)
        self.framework = framework
        self.programmes = {str(p.public_id): p for p in programmes}
        choices = [("", "—")] + [
            (str(p.public_id), f"{p.name} ({p.owner.short_name or p.owner.name})") for p in programmes
        ]
        for dim in framework.dimensions:
            self.fields[f"mode_{dim.code}"] = forms.ChoiceField(
                label=label_text(dim.label, language), choices=Mode.choices, disabled=dim.code in locked
            )
            for sub in dim.subdimensions:
                self.fields[f"programme_{sub.code}"] = forms.ChoiceField(
                    label=label_text(sub.label, language), choices=choices, required=False
                )
                self.fields[f"users_{sub.code}"] = forms.IntegerField(
                    label=_("Known users"),
                    required=False,
                    min_value=0,
                    max_value=POSITIVE_INTEGER_MAX,
                    help_text=_("Leave empty to use the programme's number of users."),
                )

    @staticmethod
    def initial_for(plan: SurveyPlan | None, framework: Framework) -> dict:
        initial: dict = {"target": 50, "demographics": True}
        if plan is None:
            return initial | {f"mode_{d.code}": Mode.SPLIT for d in framework.dimensions}
        initial |= {"target": plan.target, "demographics": plan.demographics}
        modes = {m.dimension: m.mode for m in plan.modes.all()}
        initial |= {f"mode_{d.code}": modes.get(d.code, Mode.SPLIT) for d in framework.dimensions}
        entry: PlanEntry
        for entry in plan.entries.select_related("programme"):
            initial[f"programme_{entry.subdimension}"] = (
                str(entry.programme.public_id) if entry.programme else ""
            )
            initial[f"users_{entry.subdimension}"] = entry.known_users
        return initial

    def plan_input(self) -> PlanInput:
        data = self.cleaned_data
        entries = {}
        for dim in self.framework.dimensions:
            for sub in dim.subdimensions:
                programme = self.programmes.get(data.get(f"programme_{sub.code}") or "")
                entries[sub.code] = EntryInput(programme=programme, known_users=data.get(f"users_{sub.code}"))
        return PlanInput(
            target=data["target"],
            demographics=data["demographics"],
            modes={d.code: data[f"mode_{d.code}"] for d in self.framework.dimensions},
            entries=entries,
        )


class ImportForm(forms.Form):
    form = forms.ChoiceField(label=_("Form"))
    kind = forms.ChoiceField(
        label=_("Exported by"),
        choices=[
            ("auto", _("Recognise from the headers")),
            ("kobo", _("KoboToolbox")),
            ("odk", _("ODK Central")),
            ("template", _("cityeval template")),
        ],
    )
    file = forms.FileField(label=_("CSV or XLSX file"))

    def __init__(self, *args, forms_: Sequence[SurveyForm], **kw):
        super().__init__(*args, **kw)
        cast(forms.ChoiceField, self.fields["form"]).choices = [(f.code, f.code) for f in forms_]


class MarginsForm(forms.Form):
    """Population shares (in %) per age band × sex cell, e.g. from the BPS projection."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        for age in AGE_BANDS:
            for sex in SEXES:
                self.fields[f"cell_{age}_{sex}"] = forms.FloatField(
                    label=f"{age} {sex}", required=False, min_value=0, max_value=100
                )

    @staticmethod
    def initial_for(plan: SurveyPlan | None) -> dict:
        if plan is None or not plan.margins:
            return {}
        return {f"cell_{c['age_band']}_{c['sex']}": round(c["share"] * 100, 4) for c in plan.margins}

    def shares(self) -> dict[tuple[str, str], float]:
        return {
            (age, sex): self.cleaned_data.get(f"cell_{age}_{sex}") or 0.0
            for age in AGE_BANDS
            for sex in SEXES
        }

    def grid(self):
        """Rows (age band, [(sex, bound field)]) for the template."""
        return [(age, [(sex, self[f"cell_{age}_{sex}"]) for sex in SEXES]) for age in AGE_BANDS]
