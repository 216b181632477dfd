"""Forms of the programme registry. They parse and present; the services hold the rules."""

from __future__ import annotations

from typing import cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cityeval.engine import Framework
from cityeval.engine.framework import Item, Scale, label_text
from cityeval.web.bounds import POSITIVE_INTEGER_MAX
from cityeval.web.programmes.models import Programme, QuickWinCriterionAnswer, Risk
from cityeval.web.programmes.services import (
    FIRST_START_YEAR,
    LAST_START_YEAR,
    CriterionInput,
    InvalidInput,
    ProgrammeFields,
)
from cityeval.web.regions.models import Opd


def add_service_errors(form: forms.Form, exc: InvalidInput) -> None:
    """Show a service's refusal on the form, next to the field it names where there is one."""
    for field, messages in exc.errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    dimension = forms.ChoiceField(label=_("Dimension"))
    subdimension = forms.ChoiceField(
        label=_("Sub-dimension"), required=False, help_text=_("Must belong to the dimension chosen above.")
    )
    owner = forms.ModelChoiceField(label=_("Owning OPD"), queryset=Opd.objects.none(), to_field_name="slug")
    status = forms.ChoiceField(label=_("Status"), choices=Programme.Status.choices)
    start_year = forms.IntegerField(
        label=_("Start year"), min_value=FIRST_START_YEAR, max_value=LAST_START_YEAR
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    beneficiaries = forms.IntegerField(
        label=_("Users or beneficiaries served"), required=False, min_value=0, max_value=POSITIVE_INTEGER_MAX
    )
    is_quick_win = forms.BooleanField(
        label=_("Quick win"),
        required=False,
        help_text=_("A quick win has a criteria self-assessment and risk register."),
    )

    def __init__(self, *args, framework: Framework, owners: QuerySet[Opd], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["dimension"]).choices = [("", "—")] + [
            (d.code, label_text(d.label, language)) for d in framework.dimensions
        ]
        # Grouped by dimension (an <optgroup> each), so the select itself shows which
        # sub-dimension belongs where without any script.
        cast(forms.ChoiceField, self.fields["subdimension"]).choices = [("", "—")] + [
            (
                label_text(d.label, language),
                [(s.code, label_text(s.label, language)) for s in d.subdimensions],
            )
            for d in framework.dimensions
        ]
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owners

    @staticmethod
    def initial_for(programme: Programme) -> dict:
        return {
            "name": programme.name,
            "dimension": programme.dimension,
            "subdimension": programme.subdimension,
            "owner": programme.owner.slug,
            "status": programme.status,
            "start_year": programme.start_year,
            "description": programme.description,
            "beneficiaries": programme.beneficiaries,
            "is_quick_win": programme.is_quick_win,
        }

    def programme_fields(self) -> ProgrammeFields:
        data = self.cleaned_data
        return ProgrammeFields(
            name=data["name"],
            dimension=data["dimension"],
            subdimension=data["subdimension"],
            owner=data["owner"],
            status=data["status"],
            start_year=data["start_year"],
            description=data["description"],
            beneficiaries=data["beneficiaries"],
            is_quick_win=data["is_quick_win"],
        )


class RiskForm(forms.Form):
    risk = forms.CharField(label=_("Risk"), widget=forms.Textarea(attrs={"rows": 2}))
    likelihood = forms.ChoiceField(label=_("Likelihood"), choices=Risk.Rating.choices)
    impact = forms.ChoiceField(label=_("Impact"), choices=Risk.Rating.choices)
    mitigation = forms.CharField(label=_("Mitigation"), widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.CharField(label=_("Owner"), max_length=200, help_text=_("Who acts on this risk."))

    def __init__(self, *args, **kwargs):
        # Its own HTML ids: the programme form on the same page also has an "owner" field.
        kwargs.setdefault("auto_id", "risk_%s")
        super().__init__(*args, **kwargs)


def level_field_name(code: str) -> str:
    return f"{code}__level"


def note_field_name(code: str) -> str:
    return f"{code}__note"


class CriteriaForm(forms.Form):
    """One level (on the framework's scale) and a note per Quick Win criterion; a criterion
    left without a level is not answered."""

    def __init__(
        self,
        *args,
        criteria: tuple[Item, ...],
        scale: Scale,
        language: str,
        latest: dict[str, QuickWinCriterionAnswer | None],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for item in criteria:
            answer = latest.get(item.code)
            self.fields[level_field_name(item.code)] = forms.FloatField(
                label=label_text(item.label, language),
                required=False,
                min_value=scale.min,
                max_value=scale.max,
                initial=answer.level if answer else None,
                widget=forms.NumberInput(attrs={"step": "any", "min": scale.min, "max": scale.max}),
            )
            self.fields[note_field_name(item.code)] = forms.CharField(
                label=_("Note"),
                required=False,
                initial=answer.note if answer else "",
                widget=forms.TextInput(attrs={"aria-label": _("Note")}),
            )

    def answers(self) -> dict[str, CriterionInput]:
        data = self.cleaned_data
        return {
            item.code: CriterionInput(
                level=data[level_field_name(item.code)], note=data[note_field_name(item.code)]
            )
            for item in self.criteria
            if data.get(level_field_name(item.code)) is not None
        }

    def rows(self) -> list[tuple[Item, forms.BoundField, forms.BoundField]]:
        return [
            (item, self[level_field_name(item.code)], self[note_field_name(item.code)])
            for item in self.criteria
        ]
