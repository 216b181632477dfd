"""The planner pages of a region's results (:mod:`cityeval.web.results.planner`): the items
that would raise the final most, a simulation of a chosen set, and the action plan as XLSX.

Both are read-only GET pages (the simulation changes nothing), so they work without
JavaScript and can be bookmarked.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.downloads import file_response
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.planner import (
    DEFAULT_TOP,
    TOP_CHOICES,
    PlanRow,
    action_plan_xlsx,
    item_owners,
    plan_rows,
    planner_input,
    planner_results,
    ranked_count,
    region_plan,
    region_simulate,
    target_levels,
)
from cityeval.web.results.selectors import RegionResults


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


def _choice(request: HttpRequest, results: RegionResults) -> PlannerChoice:
    framework = results.access.framework
    levels = target_levels(framework)
    items = [item.code for _component, item in framework.items_for(results.row.group)]
    initial = {"target": f"{levels[-1]:g}", "top": str(DEFAULT_TOP)}
    form = PlannerForm(request.GET or None, levels=levels, items=items, initial=initial)
    target, top, chosen = levels[-1], DEFAULT_TOP, []
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        target = data["target"] if data.get("target") not in (None, "") else target
        top = data["top"] if data.get("top") not in (None, "") else top
        chosen = list(data["item"])
    return PlannerChoice(target=target, top=top, chosen=chosen, form=form)


def _rows(
    results: RegionResults, choice: PlannerChoice, table: pl.DataFrame
) -> tuple[list[PlanRow], float, int | None]:
    found = region_plan(results, target=choice.target, table=table)
    rows = plan_rows(found, results.access.framework, item_owners(results))
    return rows, found.final, found.rank


@login_required
def planner(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    results = planner_results(request.user, cycle, region)
    access = results.access
    choice = _choice(request, results)
    table = planner_input(access.require_run())  # read once for the plan and the simulation
    rows, final, rank = _rows(results, choice, table)
    candidates = {row.item for row in rows}
    chosen = [code for code in choice.chosen if code in candidates]
    left_out = [code for code in choice.chosen if code not in candidates]
    shown = list(rows[: choice.top] if choice.top else rows)
    shown += [row for row in rows if row.item in chosen and row not in shown]
    simulation = None
    if chosen:
        new_final, new_rank = region_simulate(results, dict.fromkeys(chosen, choice.target), table=table)
        simulation = {"items": chosen, "final": new_final, "gain": new_final - final, "rank": new_rank}
    context = {
        "access": access,
        "cycle": access.cycle,
        "region": results.row.region,
        "result": results.row,
        "form": choice.form,
        "target": choice.target,
        "top": choice.top,
        "chosen": set(chosen),
        "left_out": left_out,
        "final": final,
        "rank": rank,
        "ranked": ranked_count(access.require_run()),
        "rows": shown,
        "candidates": len(rows),
        "simulation": simulation,
    }
    return render(request, "results/planner.html", context)


@login_required
def planner_export(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    """The action plan as XLSX, grouped per OPD: the chosen items if any, else the items the
    page lists with the same choices."""
    results = planner_results(request.user, cycle, region)
    choice = _choice(request, results)
    rows, _final, _rank = _rows(results, choice, planner_input(results.access.require_run()))
    if choice.chosen:
        chosen = set(choice.chosen)
        rows = [row for row in rows if row.item in chosen]
    elif choice.top:
        rows = rows[: choice.top]
    name, year = results.row.region.name, results.access.cycle.name
    title = _("Action plan of %(region)s · %(cycle)s") % {"region": name, "cycle": year}
    content = action_plan_xlsx(rows, title=title)
    return file_response(
        content, filename=f"action-plan-{results.row.region.slug}-{results.access.cycle.slug}.xlsx"
    )
