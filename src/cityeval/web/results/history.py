"""Importing a past cycle's published results table, so that improvement and year-over-year
charts work from the first year the platform is used. All or nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cityeval.engine import InputError, score_components
from cityeval.engine.scoring import ScoreResult
from cityeval.engine.tables import ROW, parse_numbers, with_rows
from cityeval.web.engine_errors import message_text
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation, Stage
from cityeval.web.imports import ImportRejected, RowErrors, cell
from cityeval.web.regions.models import Region
from cityeval.web.results.services import previous_results, run_start
from cityeval.web.results.stored import regions_store

# A published final is rounded and so are the components it is checked against: recomputing
# the 2022 KPPN & IKN finals from their rounded components lands within 0.015 (docs/domain.md §3).
PUBLISHED_FINAL_TOLERANCE = 0.015


def history_import(
    *,
    year: int,
    framework_version: FrameworkVersion,
    table: pl.DataFrame,
    user: User | None,
    default_group: str | None = None,
    slug: str | None = None,
    name: str | None = None,
) -> Cycle:
    """Import a published results table of a past cycle; all or nothing.

    The table is in the component-level format of ``cityeval score``: ``region``, ``group``
    (or ``default_group`` for every row) and one column per component; other columns are
    ignored, except a ``final``, which must agree with the components within
    :data:`PUBLISHED_FINAL_TOLERANCE` (a check that the framework and groups are the right
    ones). Regions are matched by name or slug. The engine recomputes finals and ranks from
    the components; improvement is computed against an earlier cycle with results, if any.

    Creates a published cycle (``history-<year>`` unless ``slug`` is given), a participation
    per row and a current component-level run. Raises ImportRejected listing the rows that
    are wrong.
    """
    framework = framework_version.framework
    slug = slug or f"history-{year}"
    errors = RowErrors()
    if Cycle.objects.filter(slug=slug).exists():
        raise ImportRejected([_("A cycle with the code %(slug)s exists already.") % {"slug": slug}])
    # Two cycles of one year would make "the previous year" ambiguous for improvement.
    if same_year := Cycle.objects.filter(year=year).first():
        raise ImportRejected(
            [_("The year %(year)d has a cycle already (%(slug)s).") % {"year": year, "slug": same_year.slug}]
        )
    table = with_rows(table)
    if "region" not in table.columns:
        raise ImportRejected([_("The table has no column 'region'.")])
    if "group" not in table.columns and default_group is None and len(framework.groups) > 1:
        raise ImportRejected(
            [_("The table has no column 'group': choose the group of every region in the form.")]
        )
    matched = _match_regions(table, errors)
    valid = table.filter(pl.col(ROW).is_in(list(matched)))
    if valid.height:
        names = {row: region.name for row, region in matched.items()}
        provinces = {row: region.province.name for row, region in matched.items()}
        valid = valid.with_columns(
            pl.col(ROW).replace_strict(names, return_dtype=pl.String).alias("region"),
            pl.col(ROW).replace_strict(provinces, return_dtype=pl.String).alias("province"),
        )
    before, previous = previous_results(year, exclude=None)
    result = None
    if valid.height:
        try:
            result = score_components(valid, framework, previous=previous, default_group=default_group)
            _check_finals(valid, result, errors)
        except InputError as exc:
            errors.add(exc.row, exc.column, message_text(exc))
    if errors or result is None:
        raise ImportRejected(errors.errors or [_("The table has no rows.")])
    try:
        return _store_history(
            year=year,
            slug=slug,
            name=name or _("Results %(year)s (imported)") % {"year": year},
            framework_version=framework_version,
            result=result,
            regions={r.name: r for r in matched.values()},
            before=before,
            user=user,
        )
    except IntegrityError:
        # Another request created the cycle between the check above and this write; the
        # transaction rolled back, so nothing of this import was kept.
        raise ImportRejected([_("A cycle with the code %(slug)s exists already.") % {"slug": slug}]) from None


def _match_regions(table: pl.DataFrame, errors: RowErrors) -> dict[int, Region]:
    """Each row's region (by name or slug); unknown and repeated regions are row errors."""
    regions: dict[str, Region] = {}
    for known in Region.objects.select_related("province"):
        regions[known.name.casefold()] = known
        regions[known.slug] = known
    seen: dict[int, int] = {}
    matched: dict[int, Region] = {}
    for row in table.select(ROW, "region").iter_rows(named=True):
        number, name = row[ROW], cell(row, "region")
        region = regions.get(name.casefold()) or regions.get(name)
        if not name:
            errors.add(number, "region", _("the region is empty"))
        elif region is None:
            errors.add(
                number, "region", _("no region '%(name)s' (import the regions first)") % {"name": name}
            )
        elif region.id in seen:
            errors.add(
                number,
                "region",
                _("'%(name)s' appears twice (first at row %(row)d)") % {"name": name, "row": seen[region.id]},
            )
        else:
            seen[region.id] = number
            matched[number] = region
    return matched


def _check_finals(table: pl.DataFrame, result: ScoreResult, errors: RowErrors) -> None:
    """A published final given in the table must agree with the recomputed one."""
    if "final" not in table.columns:
        return
    given = parse_numbers(table.select(ROW, "region", "final"), ["final"])
    computed = dict(zip(result.regions["region"].to_list(), result.regions["final"].to_list(), strict=True))
    for row in given.iter_rows(named=True):
        final = row["final"]
        if final is None:
            continue
        mine = computed[row["region"]]
        if abs(final - mine) > PUBLISHED_FINAL_TOLERANCE:
            errors.add(
                row[ROW],
                "final",
                _(
                    "the final %(given)s does not match the components (%(computed).3f with this "
                    "framework's weights for the region's group): check the framework and the group"
                )
                % {"given": f"{final:g}", "computed": mine},
            )


@transaction.atomic
def _store_history(
    *,
    year: int,
    slug: str,
    name: str,
    framework_version: FrameworkVersion,
    result: ScoreResult,
    regions: dict[str, Region],
    before: Cycle | None,
    user: User | None,
) -> Cycle:
    framework = framework_version.framework
    cycle = Cycle.objects.create(
        slug=slug,
        name=name,
        year=year,
        framework=framework_version,
        status=Cycle.Status.PUBLISHED,
        self_assessment_deadline=dt.datetime(year, 12, 31, tzinfo=dt.UTC),
    )
    participations = {
        row["region"]: Participation.objects.create(
            cycle=cycle, region=regions[row["region"]], group=row["group"]
        )
        for row in result.regions.select("region", "group").iter_rows(named=True)
    }
    run = run_start(
        cycle,
        stage=Stage.Kind.STAGE_II,
        result=result,
        user=user,
        previous_cycle=before,
        extra={"imported": True},
    )
    run.published_at, run.published_by = run.computed_at, user
    run.save(update_fields=["published_at", "published_by"])
    regions_store(run, result, framework, participations, {})
    return cycle
