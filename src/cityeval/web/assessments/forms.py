"""Forms of the self-assessment pages. They parse input; the services decide what is valid,
so the pages and the API apply the same rules."""

from __future__ import annotations

import contextlib
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cityeval.engine import Framework
from cityeval.engine.framework import Item
from cityeval.web.assessments.services import NARRATIVE_MAX, URL_MAX, link_problem
from cityeval.web.assessments.uploads import too_large_text
from cityeval.web.regions.models import Opd


class AnswerForm(forms.Form):
    """Level and/or raw value by the item's kind, and the narrative."""

    level = forms.FloatField(label=_("Claimed level"), required=False)
    raw_value = forms.FloatField(label=_("Value"), required=False)
    narrative = forms.CharField(
        label=_("Narrative"),
        required=False,
        max_length=NARRATIVE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What was done, by whom, and where the evidence shows it."),
    )

    def __init__(self, *args, item: Item, framework: Framework, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bounds = {"min": framework.scale.min, "max": framework.scale.max}
        self.fields["level"].widget = forms.NumberInput(attrs={**bounds, "step": "any"})
        self.fields["level"].help_text = _("A level from %(min)g to %(max)g.") % bounds
        self.fields["raw_value"].widget = forms.NumberInput(attrs={"min": 0, "step": "any"})
        if item.kind != "quantity":
            del self.fields["raw_value"]
            self.fields["level"].required = True
        else:
            unit = _("percent, 0–100") if item.unit == "percent" else _("a count")
            self.fields["raw_value"].label = _("Value (%(unit)s)") % {"unit": unit}
            if item.unit == "percent":
                self.fields["raw_value"].widget.attrs["max"] = 100
            if item.thresholds is not None:
                del self.fields["level"]  # derived from the value by the framework's thresholds
                self.fields["raw_value"].required = True
            else:
                self.fields["level"].help_text = (
                    _("Optional: the level you claim for this value (%(min)g to %(max)g).") % bounds
                )


UNASSIGN = "-"  # the value of the explicit "remove the assignment" choice


class AssignForm(forms.Form):
    """Items and what to do with them: an OPD of the region, or ``UNASSIGN``. Nothing chosen is
    an error, never a removal (an empty choice used to remove every selected assignment)."""

    items = forms.MultipleChoiceField(label=_("Items"), choices=())
    opd = forms.CharField(label=_("Assign to"))

    def __init__(self, *args, item_codes: list[str], opds, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["items"]).choices = [(code, code) for code in item_codes]
        self.opds = opds

    def clean_opd(self) -> Opd | None:
        value = self.cleaned_data["opd"]
        if value == UNASSIGN:
            return None
        opd = self.opds.filter(slug=value).first()
        if opd is None:
            raise forms.ValidationError(_("Choose one of the region's OPDs."))
        return opd


class EvidenceFileForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, too_large: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # An upload stopped for its size never arrives: say why instead of "required".
        self.too_large = too_large
        if too_large:
            self.fields["file"].required = False

    def clean(self):
        if self.too_large:
            raise forms.ValidationError(too_large_text())
        return super().clean()


def web_address(url: str) -> str:
    """A typed link as evidence keeps it: stripped, and a bare domain ("www.contoh.go.id/sk")
    taken as an https link, as Django's URLField does with ``assume_scheme``. Any other scheme
    is kept as typed, for :func:`link_problem` to say what is wrong with it."""
    url = url.strip()
    if not url:
        return ""
    with contextlib.suppress(forms.ValidationError):  # link_problem says why, in the project's words
        url = forms.URLField(assume_scheme="https").to_python(url) or url
    return url


class EvidenceLinkForm(forms.Form):
    url = forms.CharField(label=_("Link (http or https)"), max_length=URL_MAX)

    def clean_url(self) -> str:
        # The service's own rule, checked here too so that the item page's one form refuses a
        # bad link before it saves the answer or the file typed beside it.
        url = web_address(self.cleaned_data["url"])
        if problem := link_problem(url):
            raise forms.ValidationError(problem)
        return url
