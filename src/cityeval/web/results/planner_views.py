"""The planner pages of a region (:mod:`cityeval.web.results.planner`): the items that would
raise the final most, a simulation of a chosen set, and the action plan as XLSX or PDF; from
the region's results, or before evaluation from its self-assessment claims (one page and one
template, switched on the source).

All are read-only GET pages (the simulation changes nothing), so they work without
JavaScript and can be bookmarked.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.downloads import file_response
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.planner import (
    DEFAULT_TOP,
    TOP_CHOICES,
    PlannerRefused,
    PlannerSource,
    PlanRow,
    action_plan_pdf,
    action_plan_xlsx,
    answered,
    claims_source,
    item_owners,
    plan_rows,
    planner_results,
    region_plan,
    region_simulate,
    results_source,
    target_levels,
    together,
    unanswered_items,
)


class PlannerForm(forms.Form):
    """The planner's choices, all optional: the target level, how many items to list, and the
    items to simulate together."""

    target = forms.TypedChoiceField(label=gettext_lazy("Raise items to level"), coerce=float, required=False)
    top = forms.TypedChoiceField(label=gettext_lazy("Items listed"), coerce=int, required=False)
    item = forms.MultipleChoiceField(label=gettext_lazy("Items to simulate"), required=False)

    def __init__(self, *args, levels: list[float], items: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.TypedChoiceField)
        target.choices = [(f"{level:g}", number(level, 0 if level.is_integer() else 2)) for level in levels]
        top = self.fields["top"]
        assert isinstance(top, forms.TypedChoiceField)
        top.choices = [(str(n), str(n) if n else _("all")) for n in TOP_CHOICES]
        item = self.fields["item"]
        assert isinstance(item, forms.MultipleChoiceField)
        item.choices = [(code, code) for code in items]


@dataclass(frozen=True)
class PlannerChoice:
    target: float
    top: int
    chosen: list[str]
    form: PlannerForm


def _choice(request: HttpRequest, source: PlannerSource) -> PlannerChoice:
    levels = target_levels(source.framework)
    items = [item.code for _component, item in source.framework.items_for(source.group)]
    initial = {"target": f"{levels[-1]:g}", "top": str(DEFAULT_TOP)}
    form = PlannerForm(request.GET or None, levels=levels, items=items, initial=initial)
    target, top, chosen = levels[-1], DEFAULT_TOP, []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        target = data["target"] if data.get("target") not in (None, "") else target
        top = data["top"] if data.get("top") not in (None, "") else top
        chosen = list(data["item"])
    return PlannerChoice(target=target, top=top, chosen=chosen, form=form)


def _rows(source: PlannerSource, choice: PlannerChoice) -> tuple[list[PlanRow], float, int | None]:
    """The ranked rows, the current final and rank. Under the "skip" rule (always for the
    claims) only the items with a level are ranked: one without is out of its component's mean,
    so its "gain" is not comparable
    (:func:`~cityeval.web.results.planner.unanswered_items` lists them apart)."""
    found = region_plan(source, target=choice.target)
    owners = item_owners(source.participation)
    rows = plan_rows(found, source.framework, owners, ranks=not source.claims)
    if source.skips_blank:
        rows = answered(rows)
    return rows, found.final, None if source.claims else found.rank


def _no_claims(source: PlannerSource) -> bool:
    """Whether the claims have no level that counts at all: nothing to plan from yet."""
    return source.claims and source.table["score"].null_count() == source.table.height


def _urls(source: PlannerSource) -> dict[str, str]:
    kwargs = {"region": source.region.slug, "cycle": source.cycle.slug}
    prefix = source.url_prefix
    urls = {
        "page": reverse(prefix, kwargs=kwargs),
        "xlsx": reverse(f"{prefix}_export", kwargs=kwargs),
        "pdf": reverse(f"{prefix}_pdf", kwargs=kwargs),
    }
    back = "assessments:overview" if source.claims else "results:region"
    urls["back"] = reverse(back, kwargs=kwargs)
    return urls


def _page(request: HttpRequest, source: PlannerSource, context: dict) -> HttpResponse:
    choice = _choice(request, source)
    rows, final, rank = _rows(source, choice)
    unanswered = unanswered_items(source)
    blank = {code for group in unanswered for code, _label in group.items}
    candidates = {row.item for row in rows}
    chosen = [code for code in choice.chosen if code in candidates]
    left_out = [code for code in choice.chosen if code not in candidates and code not in blank]
    left_unanswered = [code for code in choice.chosen if code in blank]
    shown = list(rows[: choice.top] if choice.top else rows)
    shown += [row for row in rows if row.item in chosen and row not in shown]
    simulation = None
    if chosen:
        new_final, new_rank = region_simulate(source, dict.fromkeys(chosen, choice.target))
        simulation = {"items": chosen, "final": new_final, "gain": new_final - final, "rank": new_rank}
    context = {
        **context,
        "source": source,
        "claims": source.claims,
        "urls": _urls(source),
        "cycle": source.cycle,
        "region": source.region,
        "form": choice.form,
        "target": choice.target,
        "top": choice.top,
        "chosen": set(chosen),
        "left_out": left_out,
        "left_unanswered": left_unanswered,
        "nothing_chosen": "simulate" in request.GET and not chosen,
        "no_claims": _no_claims(source),
        "unanswered": unanswered,
        "unanswered_count": len(blank),
        "final": final,
        "rank": rank,
        "ranked": source.ranked,
        "rows": shown,
        "candidates": len(rows),
        "simulation": simulation,
    }
    return render(request, "results/planner.html", context)


def _plan_file(request: HttpRequest, source: PlannerSource, kind: str) -> HttpResponse:
    """The action plan grouped per OPD, as ``kind`` (xlsx or pdf): the chosen items if any,
    else the items the page lists with the same choices."""
    if _no_claims(source):
        raise PlannerRefused(_no_claims_text())
    choice = _choice(request, source)
    rows, final, _rank = _rows(source, choice)
    if choice.chosen:
        chosen = set(choice.chosen)
        rows = [row for row in rows if row.item in chosen]
    elif choice.top:
        rows = rows[: choice.top]
    names = {"region": source.region.name, "cycle": source.cycle.name}
    if source.claims:
        title = _("Action plan of %(region)s from the claimed index · %(cycle)s") % names
        note = _(
            "Before evaluation: gains in the claimed index, computed from the region's own "
            "self-assessment claims. National ranks are not available before evaluation."
        )
    else:
        title = _("Action plan of %(region)s · %(cycle)s") % names
        note = ""
    combined = None
    if rows:
        items = [row.item for row in rows]
        combined = together(source, items, target=choice.target, final=final)
    make = action_plan_pdf if kind == "pdf" else action_plan_xlsx
    content = make(rows, title=title, ranks=not source.claims, note=note, combined=combined)
    return file_response(content, filename=f"{source.file_stem}.{kind}")


def _no_claims_text() -> str:
    return _(
        "No claim counts yet: the planner works from the region's self-assessment claims. "
        "Answer items in the self-assessment first; the planner then shows which answered items "
        "would raise the claimed index most."
    )


# --- the planner of the results ----------------------------------------------------------------


@login_required
def planner(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    results = planner_results(request.user, cycle, region)
    return _page(request, results_source(results), {"access": results.access, "result": results.row})


@login_required
def planner_export(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    """The action plan as XLSX."""
    return _plan_file(request, results_source(planner_results(request.user, cycle, region)), "xlsx")


@login_required
def planner_pdf(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    """The action plan as PDF."""
    return _plan_file(request, results_source(planner_results(request.user, cycle, region)), "pdf")


# --- the planner of the self-assessment claims, before evaluation ------------------------------


@login_required
def claims_planner(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    return _page(request, claims_source(request.user, cycle, region), {})


@login_required
def claims_planner_export(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    return _plan_file(request, claims_source(request.user, cycle, region), "xlsx")


@login_required
def claims_planner_pdf(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    return _plan_file(request, claims_source(request.user, cycle, region), "pdf")
