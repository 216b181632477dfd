from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cityeval.engine import builtin_frameworks
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Stage
from cityeval.web.regions.models import Region


def framework_choices() -> list[tuple[str, str]]:
    """Built-in and uploaded frameworks, as values that :func:`framework_version_chosen` reads."""
    choices = [
        (f"builtin:{name}", _("%(name)s (built-in)") % {"name": name}) for name in builtin_frameworks()
    ]
    stored = FrameworkVersion.objects.filter(uploaded_by__isnull=False)
    choices += [(f"hash:{v.digest}", f"{v.code} ({v.digest[:12]})") for v in stored]
    return choices


class CycleEditForm(forms.Form):
    """What can be corrected on a cycle: its name, deadline and the dates of both stages."""

    name = forms.CharField(label=_("Name"), max_length=120)
    self_assessment_deadline = forms.DateTimeField(
        label=_("Self-assessment deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    stage_1_starts = forms.DateField(
        label=_("Stage I starts"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    stage_1_ends = forms.DateField(
        label=_("Stage I ends"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    stage_2_starts = forms.DateField(
        label=_("Stage II starts"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    stage_2_ends = forms.DateField(
        label=_("Stage II ends"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        for stage in ("stage_1", "stage_2"):
            starts, ends = data.get(f"{stage}_starts"), data.get(f"{stage}_ends")
            if starts and ends and ends < starts:
                self.add_error(f"{stage}_ends", _("A stage cannot end before it starts."))
        return data

    def stages(self) -> dict:
        data = self.cleaned_data
        return {
            Stage.Kind.STAGE_I: (data["stage_1_starts"], data["stage_1_ends"]),
            Stage.Kind.STAGE_II: (data["stage_2_starts"], data["stage_2_ends"]),
        }

    @staticmethod
    def initial_for(cycle: Cycle) -> dict:
        initial = {"name": cycle.name, "self_assessment_deadline": cycle.self_assessment_deadline}
        for stage in cycle.stages.all():
            initial[f"{stage.kind}_starts"], initial[f"{stage.kind}_ends"] = stage.starts_on, stage.ends_on
        return initial


class CycleForm(CycleEditForm):
    field_order = ["name", "slug", "year", "framework", "self_assessment_deadline"]
    slug = forms.SlugField(label=_("Short code for links"), max_length=40, help_text=_("e.g. gmsc-2024"))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    framework = forms.ChoiceField(label=_("Framework"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["framework"]).choices = framework_choices()

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Cycle.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("A cycle with this code exists already."))
        return slug


class FrameworkUploadForm(forms.Form):
    file = forms.FileField(label=_("Framework YAML file"))


class ParticipantForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all(), to_field_name="slug")
    group = forms.ChoiceField(label=_("Group"))

    def __init__(self, *args, groups: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["group"]).choices = [(g, g) for g in groups]
