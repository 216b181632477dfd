"""Writes for regions and OPDs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cityeval.web.bounds import max_length
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell
from cityeval.web.regions.models import Opd, Province, Region

REGION_COLUMNS = ("province", "region")


@dataclass(frozen=True)
class RegionImportReport:
    created: int
    unchanged: int


@dataclass(frozen=True)
class RegionImportPlan:
    """A checked table: the regions to create (name, slug, kind, province, code) and how many
    rows name a region already there."""

    to_create: list[tuple[str, str, str, str, str]]
    unchanged: int


ROWS_PER_STEP = 500  # rows checked between two progress reports of an import job


def region_kind_from_name(name: str) -> str | None:
    """``Kab. Deli Serdang`` → kabupaten, ``Kota Medan`` → kota; None if the name does not say."""
    lowered = name.lower()
    if lowered.startswith(("kab.", "kab ", "kabupaten ")):
        return Region.Kind.REGENCY
    if lowered.startswith("kota "):
        return Region.Kind.CITY
    return None


def regions_import(*, table: pl.DataFrame) -> RegionImportReport:
    """Import regions from a table with ``province, region[, kind, code]``; all or nothing.

    A region that already exists in the same province is left as it is; one that exists in
    another province is an error.
    """
    return regions_store(plan=regions_check(table=table))


def regions_check(*, table: pl.DataFrame, progress: Callable[[int], None] | None = None) -> RegionImportPlan:
    """Check every row of a region table against the regions stored (nothing is written);
    raises ImportRejected naming every bad row. ``progress`` is told how many rows are checked,
    every :data:`ROWS_PER_STEP` rows and at the end."""
    errors = RowErrors()
    missing = [c for c in REGION_COLUMNS if c not in table.columns]
    if missing:
        raise ImportRejected(
            [
                _("column '%(column)s': the table has no such column (needs province, region)")
                % {"column": missing[0]}
            ]
        )
    existing = {r.name: r for r in Region.objects.select_related("province")}
    seen: dict[str, int] = {}
    slugs = set(Region.objects.values_list("slug", flat=True))
    to_create: list[tuple[str, str, str, str, str]] = []
    unchanged = 0
    for done, row in enumerate(table.iter_rows(named=True)):  # done: the rows checked before it
        if progress is not None and done and done % ROWS_PER_STEP == 0:
            progress(done)
        number = row[ROW]
        name, province = cell(row, "region"), cell(row, "province")
        if problem := _naming_problem(name, province, seen):
            errors.add(number, *problem)
            continue
        seen[name] = number
        if too_long := _too_long(row):
            errors.add(number, *too_long)
            continue
        kind = cell(row, "kind").lower() or region_kind_from_name(name)
        if kind not in Region.Kind.values:
            errors.add(
                number, "kind", _("say 'kabupaten' or 'kota' (or start the name with 'Kab.' or 'Kota')")
            )
            continue
        if name in existing:
            if existing[name].province.name != province:
                errors.add(
                    number,
                    "province",
                    _("'%(name)s' is already in %(province)s, not %(other)s")
                    % {"name": name, "province": existing[name].province.name, "other": province},
                )
            else:
                unchanged += 1
            continue
        slug = unique_slug(name, slugs)
        to_create.append((name, slug, kind, province, cell(row, "code")))
    if progress is not None:
        progress(table.height)
    if errors:
        raise ImportRejected(errors.errors)
    return RegionImportPlan(to_create=to_create, unchanged=unchanged)


@transaction.atomic
def regions_store(*, plan: RegionImportPlan) -> RegionImportReport:
    """Create the checked regions (and their new provinces) in one transaction."""
    provinces = {p.name: p for p in Province.objects.all()}
    for name, slug, kind, province, code in plan.to_create:
        if province not in provinces:
            provinces[province] = Province.objects.create(name=province)
        Region.objects.create(name=name, slug=slug, kind=kind, province=provinces[province], code=code)
    return RegionImportReport(created=len(plan.to_create), unchanged=plan.unchanged)


def region_import_summary(report: RegionImportReport) -> str:
    """What an import did, in the page's language: the page's message, and the job's outcome."""
    return _("Imported: %(created)d new regions, %(unchanged)d already present.") % {
        "created": report.created,
        "unchanged": report.unchanged,
    }


def _naming_problem(name: str, province: str, seen: dict[str, int]) -> tuple[str, str] | None:
    """(column, message) for a row without a name or province, or naming a region twice."""
    if not name:
        return "region", _("the name is empty")
    if not province:
        return "province", _("the province is empty")
    if name in seen:
        return "region", _("'%(name)s' appears twice (first at row %(row)d)") % {
            "name": name,
            "row": seen[name],
        }
    return None


def _too_long(row: dict) -> tuple[str, str] | None:
    """(column, message) for the first value longer than its database column holds."""
    for column, model, field in (
        ("province", Province, "name"),
        ("region", Region, "name"),
        ("code", Region, "code"),
    ):
        longest = max_length(model, field)
        if len(cell(row, column)) > longest:
            return column, _("the value has %(found)d characters; at most %(n)d are allowed") % {
                "found": len(cell(row, column)),
                "n": longest,
            }
    return None


def unique_slug(name: str, taken: set[str], *, max_length: int = 140) -> str:
    """``Kab. Deli Serdang`` → ``kab-deli-serdang``, with a suffix if ``taken`` has it (which
    then holds the new slug too)."""
    base = slugify(name.replace(".", " "))[: max_length - 4] or "x"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


@transaction.atomic
def opd_create(*, region: Region, name: str, short_name: str = "") -> Opd:
    """Add an OPD; raises IntegrityError (with nothing saved) if the region has that name."""
    taken = set(region.opds.values_list("slug", flat=True))
    return Opd.objects.create(
        region=region,
        name=name.strip(),
        short_name=short_name.strip(),
        slug=unique_slug(short_name or name, taken, max_length=80),
    )
