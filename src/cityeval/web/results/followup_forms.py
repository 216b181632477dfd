"""Forms of the follow-up pages (:mod:`cityeval.web.results.followup_views`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cityeval.web.assessments.forms import web_address
from cityeval.web.assessments.models import Evidence
from cityeval.web.assessments.services import link_problem
from cityeval.web.assessments.uploads import too_large_text
from cityeval.web.regions.models import Opd, Region
from cityeval.web.results.followup import TEXT_MAX
from cityeval.web.results.followup_models import ActionStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
URL_MAX = Evidence._meta.get_field("url").max_length or 500


def _opd_field(region: Region) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Owning OPD"),
        queryset=Opd.objects.filter(region=region),
        required=False,
        empty_label=_("(none)"),
    )


class ActionCreateForm(forms.Form):
    """Actions from one recommendation: its text, edited, as one action or one per line."""

    text = forms.CharField(label=_("Action"), widget=forms.Textarea(attrs={"rows": 4}))
    per_line = forms.BooleanField(label=_("One action per line"), required=False)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE)

    def __init__(self, *args, region: Region, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opd"] = _opd_field(region)


class ActionUpdateForm(forms.Form):
    """A change of an action: status, dates, a note; text and OPD for the regional admin."""

    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    due_on = forms.DateField(label=_("Due date"), required=False, widget=DATE)
    done_on = forms.DateField(
        label=_("Done on"),
        required=False,
        widget=DATE,
        help_text=_("For a done action; today if left empty."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the history. Required when the action is dropped: say why."),
    )

    def __init__(self, *args, region: Region, assign: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if assign:
            # Left empty, the text is kept.
            self.fields["text"] = forms.CharField(
                label=_("Action"),
                max_length=TEXT_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields["opd"] = _opd_field(region)
            self.order_fields(["text", "opd", "status", "due_on", "done_on", "note"])


class EvidenceForm(forms.Form):
    """A file (checked on content), a link and/or a note; at least one of them."""

    file = forms.FileField(label=_("File"), required=False)
    url = forms.CharField(label=_("Link (http or https)"), max_length=URL_MAX, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, too_large: bool = False, **kwargs) -> None:
        kwargs.setdefault("auto_id", "evidence_%s")  # the update form on the same page has a note too
        super().__init__(*args, **kwargs)
        self.too_large = too_large  # an upload stopped for its size never arrives: say why

    def clean_url(self) -> str:
        """As the self-assessment's evidence link (:func:`web_address`): a bare domain is an
        https link."""
        url = web_address(self.cleaned_data["url"])
        if not url:
            return ""
        if problem := link_problem(url):
            raise ValidationError(problem)
        return url

    def clean(self):
        if self.too_large:
            self.add_error("file", too_large_text())
        return super().clean()

    def lost_file(self) -> str:
        """The name of the file chosen in a refused submission: a browser never keeps a chosen
        file when the form comes back, so the page must say it has to be chosen again."""
        upload = self.files.get(self.add_prefix("file")) if self.is_bound else None
        return (upload.name or "") if upload is not None else ""
