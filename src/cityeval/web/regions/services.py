"""Writes for regions and OPDs."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from django.db import transaction
from django.utils.text import slugify

from cityeval.web.bounds import max_length
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell
from cityeval.web.regions.models import Opd, Province, Region

REGION_COLUMNS = ("province", "region")


@dataclass(frozen=True)
class RegionImportReport:
    created: int
    unchanged: int


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
    errors = RowErrors()
    missing = [c for c in REGION_COLUMNS if c not in table.columns]
    if missing:
        raise ImportRejected(
            [f"column '{missing[0]}': the table has no such column (needs province, region)"]
        )
    existing = {r.name: r for r in Region.objects.select_related("province")}
    seen: dict[str, int] = {}
    slugs = set(Region.objects.values_list("slug", flat=True))
    to_create: list[tuple[str, str, str, str, str]] = []
    unchanged = 0
    for row in table.iter_rows(named=True):
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
            errors.add(number, "kind", "say 'kabupaten' or 'kota' (or start the name with 'Kab.' or 'Kota')")
            continue
        if name in existing:
            if existing[name].province.name != province:
                errors.add(
                    number,
                    "province",
                    f"'{name}' is already in {existing[name].province.name}, not {province}",
                )
            else:
                unchanged += 1
            continue
        slug = unique_slug(name, slugs)
        to_create.append((name, slug, kind, province, cell(row, "code")))
    if errors:
        raise ImportRejected(errors.errors)
    with transaction.atomic():
        provinces = {p.name: p for p in Province.objects.all()}
        for name, slug, kind, province, code in to_create:
            if province not in provinces:
                provinces[province] = Province.objects.create(name=province)
            Region.objects.create(name=name, slug=slug, kind=kind, province=provinces[province], code=code)
    return RegionImportReport(created=len(to_create), unchanged=unchanged)


def _naming_problem(name: str, province: str, seen: dict[str, int]) -> tuple[str, str] | None:
    """(column, message) for a row without a name or province, or naming a region twice."""
    if not name:
        return "region", "the name is empty"
    if not province:
        return "province", "the province is empty"
    if name in seen:
        return "region", f"'{name}' appears twice (first at row {seen[name]})"
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
            return column, f"the value has {len(cell(row, column))} characters; at most {longest} are allowed"
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
