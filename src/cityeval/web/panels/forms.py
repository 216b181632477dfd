"""Forms of the panel pages. They parse input; the services decide what is valid, so the
pages and the API apply the same rules."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData
from django.utils.translation import gettext_lazy as _

from cityeval.engine import Framework
from cityeval.web.evaluations.models import Stage
from cityeval.web.panels.models import PanelMember
from cityeval.web.panels.services import NOTE_MAX, TEXT_MAX
from cityeval.web.regions.models import Region

_DATETIME = {"type": "datetime-local"}
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"  # what a datetime-local input shows and sends


class PanelForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=120, help_text=_("e.g. Panel 1"))


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Assessor"), queryset=User.objects.none(), to_field_name="username")
    affiliation = forms.ChoiceField(label=_("Affiliation"), choices=PanelMember.Affiliation.choices)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    is_chair = forms.BooleanField(label=_("Chair of the panel"), required=False)

    def __init__(self, *args, assessors, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = assessors


class MemberChoiceForm(forms.Form):
    """One member of the panel, by username (remove, make chair)."""

    user = forms.CharField(max_length=150)


class ConflictForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all(), to_field_name="slug")
    reason = forms.CharField(
        label=_("Reason"), max_length=300, help_text=_("e.g. I advise this region's smart-city team.")
    )


class InterviewForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"), widget=forms.DateTimeInput(attrs=_DATETIME, format=_DATETIME_FORMAT)
    )
    link = forms.CharField(label=_("Online link"), max_length=200, required=False)
    attendees = forms.CharField(
        label=_("Attendees"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )
    evidence_topup_until = forms.DateTimeField(
        label=_("Evidence top-up deadline"),
        required=False,
        widget=forms.DateTimeInput(attrs=_DATETIME, format=_DATETIME_FORMAT),
        help_text=_(
            "Until then the region can add evidence to the items marked “needs evidence” "
            "(usually one day after the interview)."
        ),
    )


class FeedbackForm(forms.Form):
    strengths = forms.CharField(
        label=_("Strengths"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    weaknesses = forms.CharField(
        label=_("Weaknesses"), required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    recommendations = forms.CharField(
        label=_("Recommendations"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ConsolidatedScoreForm(forms.Form):
    item = forms.CharField(max_length=80, widget=forms.HiddenInput)
    score = forms.FloatField(label=_("Consolidated score"))
    reason = forms.CharField(label=_("Reason"), max_length=NOTE_MAX)


class RevisionForm(forms.Form):
    """An after-discussion revision of one item's mark, with its reason."""

    item = forms.CharField(max_length=80, widget=forms.HiddenInput)
    score = forms.FloatField(label=_("Revised score"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=NOTE_MAX, required=False)


class ScoreInputsRenderer(BaseRenderer):
    """The score form's renderer: its ~220 inputs (a number and a text area per item) and their
    empty error lists are written in Python, as Django's own templates write them
    (``widgets/input.html``, ``attrs.html``, ``textarea.html``, ``errors/list/ul.html``): each
    through the template engine took most of the page of a member still scoring. Everything
    else, and everything when a project overrides one of those templates, goes to the default
    renderer."""

    _OWN = (
        "django/forms/widgets/number.html",
        "django/forms/widgets/input.html",
        "django/forms/widgets/attrs.html",
        "django/forms/widgets/textarea.html",
        "django/forms/errors/list/default.html",
        "django/forms/errors/list/ul.html",
    )

    def __init__(self) -> None:
        default = get_default_renderer()
        self.form_template_name = default.form_template_name
        self.formset_template_name = default.formset_template_name
        self.field_template_name = default.field_template_name
        self.bound_field_class = getattr(default, "bound_field_class", None)

    def get_template(self, template_name: str):
        return get_default_renderer().get_template(template_name)

    @cached_property
    def djangos_own(self) -> bool:
        """Whether the templates written here are Django's own (not overridden)."""
        own = Path(forms.__file__).parent / "templates"
        for name in self._OWN:
            origin = getattr(getattr(self.get_template(name), "template", None), "origin", None)
            if origin is None or not Path(origin.name).is_relative_to(own):
                return False
        return True

    def render(self, template_name: str, context, request=None) -> str:
        if self.djangos_own:
            if (
                template_name == "django/forms/widgets/number.html"
                and context["widget"].get("type") == "number"
            ):
                return _input(context["widget"])
            if template_name == "django/forms/widgets/textarea.html":
                return _textarea(context["widget"])
            if template_name == "django/forms/errors/list/default.html" and not context["errors"]:
                return ""
        return super().render(template_name, context, request=request)


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attrs(attrs: dict) -> str:
    """``widgets/attrs.html``."""
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{_formatted(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    """``widgets/input.html``, stripped as the renderer strips it."""
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict) -> str:
    """``widgets/textarea.html``, stripped as the renderer strips it."""
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'
    )


def score_field(code: str) -> str:
    return f"score-{code}"


def note_field(code: str) -> str:
    return f"note-{code}"


class ScoresForm(forms.Form):
    """A score and a note per item. Its inputs sit in the item table and join the form
    element ``#scores-form`` through their ``form`` attribute, so that the per-item "needs
    evidence" buttons can be forms of their own in the same table."""

    FORM_ID = "scores-form"
    default_renderer = ScoreInputsRenderer()

    def __init__(self, *args, codes: list[str], framework: Framework, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes
        scale = framework.scale
        for code in codes:
            self.fields[score_field(code)] = forms.FloatField(
                label=_("Score"),
                required=False,
                widget=forms.NumberInput(
                    attrs={"min": scale.min, "max": scale.max, "step": "any", "form": self.FORM_ID}
                ),
            )
            self.fields[note_field(code)] = forms.CharField(
                label=_("Note"),
                required=False,
                max_length=NOTE_MAX,
                widget=forms.Textarea(attrs={"rows": 2, "form": self.FORM_ID}),
            )

    def entries(self) -> dict[str, tuple[float, str]]:
        """``{item: (score, note)}`` for the items given a score (an empty score keeps the
        last one: recorded scores are never removed)."""
        out = {}
        for code in self.codes:
            score = self.cleaned_data.get(score_field(code))
            if score is not None:
                out[code] = (score, self.cleaned_data.get(note_field(code)) or "")
        return out

    def clean(self):
        data = super().clean()
        for code in self.codes:
            if data.get(note_field(code)) and data.get(score_field(code)) is None:
                self.add_error(score_field(code), _("Give a score with the note."))
        return data
