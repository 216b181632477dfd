"""The what-if planner of a region: which items would raise its final most, what a chosen set
of them gives together, and the action plan per OPD as XLSX or PDF (issue 15).

One planner, two sources of input (:class:`PlannerSource`):

- the region's results (:func:`results_source`), described below;
- before evaluation, the region's own self-assessment claims (:func:`claims_source`): the
  claimed index's table (:func:`claimed_planner_input`, one "assessor", the level that counts
  for each item, derived from the thresholds where the item has them), scored as the claimed
  index is (mean, unscored items skipped). An item with no level that counts is then out of
  its component's mean, so "raising" it is answering it, not a comparable gain: only the
  answered items are ranked (:func:`answered`), the others are listed apart
  (:func:`unanswered_items`), and with no claim that counts nothing is ranked. There is no
  national table before evaluation, so this source has no ranks. It is open to the region's
  admin and the coordinator while the cycle is open (the self-assessment open, submitted or
  past its deadline); before the cycle opens (draft) and once it is closed or published it
  refuses with the reason (a page refusal, 403): from then on the planner of the published
  results is the one to use.

The results source reads the stored run (the published one, or the coordinator's before publication:
:func:`~cityeval.web.results.selectors.region_results` decides) and hands the engine
(:mod:`cityeval.engine.whatif`) the run's item scores as its input: every region's stored item
score as the one score of its item. Raising an item sets that score to the target level, which
is exactly what the engine's what-if does to a panel's scores (every score of the item becomes
the level), so each gain, new final and new rank is the engine's, computed against the other
regions' finals of the same run. The run's own parameters (consolidation, unscored rule) are
used, and the current final the engine computes from the stored items must be the stored
final: otherwise the planner refuses rather than show gains against another number. Under the
"skip" rule an item the panel did not score is out of its component's mean, as an unanswered
claim is: it is listed apart, not ranked, in the same way. Under the "zero" rule it counts 0 and
is ranked like any other item.

Only the region's regional admin and the national coordinator plan: everyone else gets 404
(no role in the region) or 403 (an OPD contributor of the region).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cityeval.engine import Framework, InputError
from cityeval.engine.numbers import TWO_DECIMALS
from cityeval.engine.whatif import Plan, plan, simulate
from cityeval.web.accounts.access import User, memberships, region_access
from cityeval.web.accounts.models import Role
from cityeval.web.assessments.selectors import (
    assignments,
    claims_table,
    latest_answers,
    self_assessment_for,
)
from cityeval.web.downloads import new_workbook
from cityeval.web.engine_errors import input_error_text
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.labels import page_label
from cityeval.web.pdf import pdf_bytes
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region
from cityeval.web.results.models import ItemResult, RegionResult, ResultRun
from cityeval.web.results.selectors import RegionResults, ResultsAccess, region_results

STORED = "stored"  # the assessor name of a stored item score in the engine's input
TOP_CHOICES = (10, 20, 50, 0)  # 0: every item
DEFAULT_TOP = 10
SAME_FINAL = 1e-9  # the engine's final of the stored items against the stored final
#: The page's precision: gains with three decimals (signed), finals and levels with two.
GAIN_PLACES = 3
GAIN_FORMAT = "+0.000;-0.000;0.000"  # the XLSX number format of a gain: the value is kept


class PlannerRefused(Refused):
    """The planner cannot work on this run; the message says why."""

    status = 409
    default_message = gettext_lazy("The planner cannot be used on these results.")


# --- access ----------------------------------------------------------------------------------


def may_plan(user: User, access: ResultsAccess, region_id: int) -> bool:
    """Whether ``user`` may open the planner of the region: its regional admin (on results
    they may see) or the national coordinator, on item-level runs only."""
    run = access.run
    if run is None or run.level != ResultRun.Level.ITEM:
        return False
    if access.is_coordinator:
        return True
    return any(m.role == Role.REGIONAL_ADMIN and m.region_id == region_id for m in memberships(user))


def planner_results(user: User, cycle: str, region: str) -> RegionResults:
    """The region's results for its planner: 404 to anyone with no role in the region (and,
    before publication, to everyone but the coordinator), 403 to an OPD contributor."""
    rights = region_access(user, region)
    if not (rights.is_admin or rights.is_coordinator):
        raise PermissionDenied
    results = region_results(user, cycle, region)
    if not may_plan(user, results.access, results.row.region_id):
        raise PlannerRefused(
            _("These results were imported as component scores: the planner needs item scores.")
        )
    return results


# --- the engine's input ----------------------------------------------------------------------


def planner_input(run: ResultRun) -> pl.DataFrame:
    """The run's item scores as the engine's item-level input (``region, group, item,
    assessor, score``): one score per scored item, the stored item score. A region with no
    scored item has one blank row, so that it is still listed (as a non-participant)."""
    lines = {
        pk: (name, group)
        for pk, name, group in RegionResult.objects.filter(run=run).values_list(
            "region_id", "region__name", "group"
        )
    }
    rows = ItemResult.objects.filter(run=run).order_by("region_id", "item")
    data: dict[str, list[Any]] = {c: [] for c in ("region", "group", "item", "assessor", "score")}
    blank: dict[int, str] = {}
    for region_id, item, score in rows.values_list("region_id", "item", "score"):
        if score is None:
            blank.setdefault(region_id, item)
            continue
        name, group = lines[region_id]
        for column, value in zip(data, (name, group, item, STORED, score), strict=True):
            data[column].append(value)
    scored = set(data["region"])
    for region_id, item in blank.items():
        name, group = lines[region_id]
        if name not in scored:
            for column, value in zip(data, (name, group, item, STORED, None), strict=True):
                data[column].append(value)
    schema = {"region": pl.String, "group": pl.String, "item": pl.String, "assessor": pl.String}
    return pl.DataFrame(data, schema={**schema, "score": pl.Float64})


def claimed_planner_input(participation: Participation) -> pl.DataFrame:
    """The region's latest self-assessment claims as the engine's item-level input: the
    claimed index's own table (one row per expected item, assessor ``self``, the level that
    counts, blank where nothing counts)."""
    return claims_table(participation, latest_answers(participation))


def _options(run: ResultRun) -> dict[str, Any]:
    parameters = run.parameters or {}
    return {
        "consolidation": parameters.get("consolidation", "mean"),
        "unscored": parameters.get("unscored", "skip"),
    }


RESULTS = "results"
CLAIMS = "claims"


@dataclass(frozen=True)
class PlannerSource:
    """What one planner page works on: the engine's input ``table`` and how to score it, the
    region's name in it, and where the page links. ``stored_final``: the published final the
    engine must reproduce (results only). ``ranked``: how many regions the national table
    ranks (None for claims: there is no national table before evaluation)."""

    kind: str  # RESULTS or CLAIMS
    region: Region
    cycle: Cycle
    participation: Participation
    framework: Framework
    group: str
    table: pl.DataFrame
    name: str
    options: dict[str, Any]
    stored_final: float | None
    ranked: int | None

    @property
    def claims(self) -> bool:
        return self.kind == CLAIMS

    @property
    def skips_blank(self) -> bool:
        """Whether an item with no score is out of its component's mean (the "skip" rule, which
        the claims always use): then it is listed apart (:func:`unanswered_items`), not ranked."""
        return self.options.get("unscored") == "skip"

    @property
    def url_prefix(self) -> str:
        """The prefix of the planner's URL names: ``results:planner``, ``results:claims_planner``."""
        return "results:claims_planner" if self.claims else "results:planner"

    @property
    def file_stem(self) -> str:
        kind = "claimed-action-plan" if self.claims else "action-plan"
        return f"{kind}-{self.region.slug}-{self.cycle.slug}"


def results_source(results: RegionResults) -> PlannerSource:
    """The planner of the region's stored results (the run read once)."""
    run = results.access.require_run()
    return PlannerSource(
        kind=RESULTS,
        region=results.row.region,
        cycle=results.access.cycle,
        participation=results.row.participation,
        framework=results.access.framework,
        group=results.row.group,
        table=planner_input(run),
        name=results.row.region.name,
        options=_options(run),
        stored_final=results.row.final,
        ranked=ranked_count(run),
    )


def claims_refusal(cycle: Cycle) -> str | None:
    """Why the planner of the claims is not open in the cycle's status; None while it is."""
    if cycle.status == Cycle.Status.DRAFT:
        return _(
            "The cycle is not open yet: the planner of the claimed index opens with the self-assessment."
        )
    if cycle.status != Cycle.Status.OPEN:
        return _(
            "The self-assessment of this cycle is closed: the claims are being evaluated. Plan "
            "from the results once they are published."
        )
    return None


def claims_source(user: User, cycle: str, region: str) -> PlannerSource:
    """The planner of the region's self-assessment claims: 404 to anyone with no role in the
    region, 403 to an OPD contributor, a refusal with the reason outside the open cycle."""
    sa = self_assessment_for(user, region, cycle)
    if not (sa.access.is_admin or sa.access.is_coordinator):
        raise PermissionDenied
    participation = sa.participation
    if reason := claims_refusal(participation.cycle):
        raise PlannerRefused(reason)
    return PlannerSource(
        kind=CLAIMS,
        region=sa.access.region,
        cycle=participation.cycle,
        participation=participation,
        framework=sa.framework,
        group=participation.group,
        table=claimed_planner_input(participation),
        name=participation.region.slug,  # the claims table names the region by its slug
        options={"consolidation": "mean", "unscored": "skip"},  # as the claimed index scores
        stored_final=None,
        ranked=None,
    )


def _read_error(source: PlannerSource, exc: InputError) -> PlannerRefused:
    if source.claims:
        return PlannerRefused(
            _("The planner cannot read these claims: %(error)s") % {"error": input_error_text(exc)}
        )
    return PlannerRefused(
        _("The planner cannot read these results: %(error)s") % {"error": input_error_text(exc)}
    )


def region_plan(source: PlannerSource, *, target: float | None = None) -> Plan:
    """The engine's plan for the region: every item below ``target`` (default the scale's
    top) with the gain of raising it alone, best first."""
    try:
        found = plan(
            source.table,
            source.framework,
            region=source.name,
            target_level=target,
            **source.options,
        )
    except InputError as exc:
        raise _read_error(source, exc) from None
    stored = source.stored_final
    if stored is not None and not math.isclose(found.final, stored, rel_tol=0, abs_tol=SAME_FINAL):
        raise PlannerRefused(
            _(
                "The item scores of these results give a final of %(computed).6f, not the "
                "published %(stored).6f: the planner would not show true gains."
            )
            % {"computed": found.final, "stored": stored}
        )
    return found


def region_simulate(source: PlannerSource, changes: Mapping[str, float]) -> tuple[float, int | None]:
    """The region's final and national rank (None for claims) with all ``changes`` (item →
    level) together."""
    try:
        final, rank = simulate(
            source.table,
            source.framework,
            region=source.name,
            changes=changes,
            **source.options,
        )
    except InputError as exc:
        raise _read_error(source, exc) from None
    return final, None if source.claims else rank


def ranked_count(run: ResultRun) -> int:
    return RegionResult.objects.filter(run=run, rank_national__isnull=False).count()


def target_levels(framework: Framework) -> list[float]:
    """The levels an item can be raised to: the whole levels above the scale's bottom."""
    low, high = framework.scale.min, framework.scale.max
    levels = [float(n) for n in range(math.floor(low) + 1, math.floor(high) + 1)]
    return levels if levels and levels[-1] == high else [*levels, float(high)]


# --- the rows the page and the export show ---------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    item: str
    label: str
    component: str
    component_label: str
    weight: float
    current: float | None
    target: float
    gain_final: float
    new_final: float
    new_rank: int | None
    opd: str  # the owning OPD's name, "" when the item is not assigned


def plan_rows(
    found: Plan, framework: Framework, owners: Mapping[str, str], *, ranks: bool = True
) -> list[PlanRow]:
    """The plan's items, best first, with their labels in the page's language and owner
    (``ranks=False``: no new ranks, for the claims, which have no national table)."""
    items = framework.items_by_code
    out = []
    for row in found.items.iter_rows(named=True):
        component, item = items[row["item"]]
        out.append(
            PlanRow(
                item=row["item"],
                label=page_label(item.label),
                component=row["component"],
                component_label=page_label(component.label),
                weight=row["weight"],
                current=row["current"],
                target=row["target"],
                gain_final=row["gain_final"],
                new_final=row["new_final"],
                new_rank=row["new_rank"] if ranks else None,
                opd=owners.get(row["item"], ""),
            )
        )
    return out


def answered(rows: list[PlanRow]) -> list[PlanRow]:
    """The rows of items with a level that counts (for the claims: the answered items). An item
    with none is left out of its component's mean, so "raising" it from nothing is not a gain
    of the same kind: it answers the item, and what that does depends on the level claimed."""
    return [row for row in rows if row.current is not None]


@dataclass(frozen=True)
class UnansweredComponent:
    """The items of one component with no level that counts in the claims."""

    component: str
    label: str
    items: list[tuple[str, str]]  # (code, label in the page's language)


def unanswered_items(source: PlannerSource) -> list[UnansweredComponent]:
    """The region's items with no level that counts (claims: unanswered, or answered with a
    value that gives no level; results: not scored by the panel), by component in the
    framework's order, whatever the target level; none unless the source skips them."""
    if not source.skips_blank:
        return []
    mine = source.table.filter((pl.col("region") == source.name) & pl.col("score").is_not_null())
    counted = set(mine["item"].to_list())
    groups: dict[str, UnansweredComponent] = {}
    for component, item in source.framework.items_for(source.group):
        if item.code in counted:
            continue
        group = groups.setdefault(
            component.code, UnansweredComponent(component.code, page_label(component.label), [])
        )
        group.items.append((item.code, page_label(item.label)))
    return list(groups.values())


@dataclass(frozen=True)
class Together:
    """A set of items raised together to ``target``: the new final (claimed index), its gain
    over the current one and the new national rank (None for the claims)."""

    items: list[str]
    target: float
    final: float
    gain: float
    rank: int | None


def together(source: PlannerSource, items: list[str], *, target: float, final: float) -> Together:
    """The engine's simulation of ``items`` raised together to ``target`` against ``final``."""
    new_final, new_rank = region_simulate(source, dict.fromkeys(items, target))
    return Together(items=items, target=target, final=new_final, gain=new_final - final, rank=new_rank)


def item_owners(participation: Participation) -> dict[str, str]:
    """Item → the name of the OPD the region assigned it to in its self-assessment."""
    return {code: a.opd.name for code, a in assignments(participation).items()}


def by_opd(rows: list[PlanRow]) -> list[tuple[str, list[PlanRow]]]:
    """The rows grouped by owning OPD (by name; unassigned items last), best first inside."""
    groups: dict[str, list[PlanRow]] = {}
    for row in rows:
        groups.setdefault(row.opd, []).append(row)
    return sorted(groups.items(), key=lambda pair: (pair[0] == "", pair[0].casefold()))


def action_plan_header(*, ranks: bool = True) -> list[str]:
    """The action plan's columns, in the page's language. Without ranks (the claims, before
    evaluation) the gains are in the claimed index, not the final, and there is no rank."""
    header = [_("OPD"), _("Item"), _("Item name"), _("Component"), _("Current score"), _("Target")]
    if not ranks:
        return [*header, _("Gain in claimed index"), _("New claimed index")]
    return [*header, _("Gain in final"), _("New final"), _("New national rank")]


def together_label(found: Together) -> str:
    """The name of the line of the plan's items together, in the page's language."""
    level = number(found.target, 0 if found.target.is_integer() else 2)
    return ngettext(
        "The %(n)d item of this plan at level %(level)s",
        "The %(n)d items of this plan together at level %(level)s",
        len(found.items),
    ) % {"n": len(found.items), "level": level}


def action_plan_xlsx(
    rows: list[PlanRow],
    *,
    title: str,
    ranks: bool = True,
    note: str = "",
    combined: Together | None = None,
) -> bytes:
    """The action plan as a workbook: one sheet, a title line (and ``note`` under it), a
    header row, then the items grouped per OPD (each group headed by its OPD's name, the OPD in
    every row too), best gain first inside a group, and after a blank row the ``combined``
    line: the plan's items raised together (gain, new final, new rank in their columns).
    Numbers keep full precision, shown as the page shows them: two decimals, gains signed with
    three. ``ranks=False`` leaves the rank column out."""
    out = io.BytesIO()
    workbook = new_workbook(out)
    sheet = workbook.add_worksheet(_("Action plan")[:31])
    bold = workbook.add_format({"bold": True})
    group_head = workbook.add_format({"bold": True, "bg_color": "#E8EEF4"})
    two = workbook.add_format({"num_format": TWO_DECIMALS})
    gain = workbook.add_format({"num_format": GAIN_FORMAT})
    bold_two = workbook.add_format({"bold": True, "num_format": TWO_DECIMALS})
    bold_gain = workbook.add_format({"bold": True, "num_format": GAIN_FORMAT})
    header = action_plan_header(ranks=ranks)
    sheet.write(0, 0, title, bold)
    if note:
        sheet.write(1, 0, note)
    sheet.write_row(2, 0, header, bold)
    r = 3
    for opd, members in by_opd(rows):
        name = opd or _("Not assigned to an OPD")
        sheet.write(r, 0, name, group_head)
        r += 1
        for row in members:
            sheet.write(r, 0, name)
            sheet.write(r, 1, row.item)
            sheet.write(r, 2, row.label)
            sheet.write(r, 3, row.component_label)
            if row.current is not None:
                sheet.write(r, 4, row.current, two)
            sheet.write(r, 5, row.target, two)
            sheet.write(r, 6, row.gain_final, gain)
            sheet.write(r, 7, row.new_final, two)
            if ranks and row.new_rank is not None:
                sheet.write(r, 8, row.new_rank)
            r += 1
    if combined is not None:
        r += 1
        sheet.write(r, 0, together_label(combined), bold)
        sheet.write(r, 5, combined.target, bold_two)
        sheet.write(r, 6, combined.gain, bold_gain)
        sheet.write(r, 7, combined.final, bold_two)
        if ranks and combined.rank is not None:
            sheet.write(r, 8, combined.rank, bold)
    sheet.freeze_panes(3, 0)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 30)
    sheet.set_column(2, 2, 50)
    sheet.set_column(3, 3, 18)
    sheet.set_column(4, len(header) - 1, 12)
    workbook.close()
    return out.getvalue()


def action_plan_pdf(
    rows: list[PlanRow],
    *,
    title: str,
    ranks: bool = True,
    note: str = "",
    combined: Together | None = None,
) -> bytes:
    """The action plan as a PDF (A4 landscape): the same rows and columns as the workbook,
    one table per OPD (unassigned items last), best gain first inside a group, then the
    ``combined`` line; in the active language, with the page's precision."""
    groups = [(opd or _("Not assigned to an OPD"), members) for opd, members in by_opd(rows)]
    html = render_to_string(
        "results/pdf/action_plan.html",
        {
            "title": title,
            "note": note,
            "header": action_plan_header(ranks=ranks)[1:],  # the OPD heads its table
            "groups": groups,
            "ranks": ranks,
            "combined": combined,
            "combined_label": together_label(combined) if combined else "",
            "made": timezone.localdate(),
        },
    )
    return pdf_bytes(html)
