from django import forms
from django.utils.translation import gettext_lazy as _

from cityeval.engine import builtin_frameworks
from cityeval.web.evaluations.models import Cycle, FrameworkVersion


def framework_choices() -> list[tuple[str, str]]:
    choices = [
        (f"builtin:{name}", _("%(name)s (built-in)") % {"name": name}) for name in builtin_frameworks()
    ]
    stored = FrameworkVersion.objects.filter(uploaded_by__isnull=False)
    return choices + [(f"hash:{v.digest}", f"{v.code} ({v.digest[:12]})") for v in stored]


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
