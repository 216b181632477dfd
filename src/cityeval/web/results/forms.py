from django import forms
from django.utils.translation import gettext_lazy as _

from cityeval.web.evaluations.forms import framework_choices
from cityeval.web.evaluations.models import Cycle
from cityeval.web.results.models import LetterDetails


class HistoryImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    framework = forms.ChoiceField(label=_("Framework of that year"))
    default_group = forms.CharField(
        label=_("Group of every region"),
        max_length=40,
        required=False,
        help_text=_("Only when the table has no group column, e.g. REGULER."),
    )
    slug = forms.SlugField(
        label=_("Short code for links"), max_length=40, required=False, help_text=_("Default: history-<year>")
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["framework"].choices = framework_choices()

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if slug and Cycle.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("A cycle with this code exists already."))
        return slug


class LetterDetailsForm(forms.ModelForm):
    class Meta:
        model = LetterDetails
        fields = [
            "issuing_body",
            "issuing_unit",
            "letterhead_address",
            "number",
            "place",
            "date",
            "subject",
            "signatory_name",
            "signatory_position",
            "signatory_id",
        ]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
