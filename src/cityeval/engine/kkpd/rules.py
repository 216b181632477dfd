"""The KKPD rule file: YAML validated into a frozen model, with the defaults of issue 14.

A region keeps one rule file. Every key is optional; a key left out takes the default below
(:data:`DEFAULT_RULES_YAML`, printed by ``cityeval kkpd rules``). Merchant category codes
(MCC, ISO 18245) are written as numbers or ranges ``"3000-3299"``.

Holidays: ``calendar: indonesia`` takes Indonesia's national public holidays *and* the
collective leave days (cuti bersama, the ``government`` category) from the ``holidays`` package
(MIT, github.com/vacanza/holidays), which follows the yearly joint decree of three ministers
(SKB 3 Menteri). A year the package does not list yet yields no collective leave days, so
``add`` lists extra dates (e.g. a newly decreed cuti bersama, a regional holiday) and
``remove`` drops dates the region works on. ``calendar: none`` uses only ``add``.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cityeval.engine.errors import FrameworkError
from cityeval.engine.framework import _describe_pydantic_error

__all__ = [
    "DEFAULT_RULES_YAML",
    "Holidays",
    "RuleSet",
    "RulesError",
    "default_rules",
    "load_rules",
    "parse_rules",
]


class RulesError(FrameworkError):
    """A KKPD rule file is invalid; ``problems`` lists each one as ``path: message``."""


DEFAULT_RULES_YAML = """\
# KKPD rule file (cityeval). Amounts in whole rupiah; days are calendar days.
# Merchant category codes (MCC, ISO 18245): a number or a range "first-last".
split_purchase:
  window_days: 3          # purchases whose dates differ by at most this many days
  threshold: 50000000     # each purchase under it, together reaching it
over_payee_cap:
  cap: 200000000          # per payee (merchant) ...
  period: year            # ... per calendar year (or: month)
  scope: opd              # summed per OPD (or: region, all OPDs together)
card_type_mismatch:
  travel_categories:
    - 3000-3299           # airlines
    - 4511                # airlines, air carriers
    - 3351-3500           # car rental
    - 7512                # car rental agencies
    - 3501-3999           # lodging: hotels, motels, resorts
    - 7011                # lodging
    - 4111                # local and suburban commuter transport, ferries
    - 4112                # passenger railways
    - 4121                # taxicabs and limousines
    - 4131                # bus lines
    - 4789                # transportation services, not elsewhere classified
blocked_merchant_category:
  categories:
    - 6010                # manual cash disbursements (cash advance)
    - 6011                # automated cash disbursements (ATM)
    - 6051                # quasi-cash: non-financial institutions, foreign currency, money orders
    - 7995                # betting, lottery, casino gaming
    - 5813                # drinking places: bars, taverns, nightclubs
    - 5993                # cigar stores and stands (tobacco)
outside_working_days:
  weekend: [6, 7]         # ISO weekdays: 6 Saturday, 7 Sunday
  holidays:
    calendar: indonesia   # national public holidays and cuti bersama (or: none)
    add: []               # extra dates, e.g. "2026-03-20"
    remove: []            # dates the region works on
missing_receipt:
  due_days: 7             # a receipt attached more than this many days after the purchase
duplicate_charge:
  window_days: 1          # same card, merchant and amount within this many days
"""


_TRAVEL = ["3000-3299", 4511, "3351-3500", 7512, "3501-3999", 7011, 4111, 4112, 4121, 4131, 4789]


_TRAVEL = ["3000-3299", 4511, "3351-3500", 7512, "3501-3999", 7011, 4111, 4112, 4121, 4131, 4789]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _categories(values: list[Any]) -> tuple[tuple[int, int], ...]:
    """``[3000-3299, 4511]`` → ``((3000, 3299), (4511, 4511))``; refuses anything else."""
    ranges = []
    for value in values:
        text = str(value).strip()
        first, _, last = text.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"{text!r} is not a category code (0000–9999) or range 'first-last'")
        low, high = int(first), int(last or first)
        if not 0 <= low <= high <= 9999:
            raise ValueError(f"{text!r} is not a category code (0000–9999) or range 'first-last'")
        ranges.append((low, high))
    return tuple(ranges)


class SplitPurchase(_Model):
    window_days: int = Field(3, ge=0)
    threshold: int = Field(50_000_000, gt=0)


class PayeeCap(_Model):
    cap: int = Field(200_000_000, gt=0)
    period: Literal["year", "month"] = "year"
    scope: Literal["opd", "region"] = "opd"


class CardTypeMismatch(_Model):
    travel_categories: tuple[tuple[int, int], ...] = _categories(_TRAVEL)

    @field_validator("travel_categories", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _categories(value) if isinstance(value, list) else value


class BlockedCategories(_Model):
    categories: tuple[tuple[int, int], ...] = _categories([6010, 6011, 6051, 7995, 5813, 5993])

    @field_validator("categories", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _categories(value) if isinstance(value, list) else value


class Holidays(_Model):
    calendar: Literal["indonesia", "none"] = "indonesia"
    add: tuple[dt.date, ...] = ()
    remove: tuple[dt.date, ...] = ()

    def dates(self, years: list[int] | range) -> frozenset[dt.date]:
        """The non-working dates of ``years``: the calendar's, plus ``add``, minus ``remove``."""
        found: set[dt.date] = set()
        if self.calendar == "indonesia" and len(years):
            import holidays  # imported here: only the working-day rule needs it

            country = holidays.country_holidays("ID", years=list(years), categories=("public", "government"))
            found.update(country.keys())
        found.update(self.add)
        return frozenset(found - set(self.remove))


class WorkingDays(_Model):
    weekend: tuple[int, ...] = (6, 7)
    holidays: Holidays = Holidays()

    @field_validator("weekend")
    @classmethod
    def _iso_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= day <= 7 for day in value):
            raise ValueError("weekdays are ISO numbers 1 (Monday) to 7 (Sunday)")
        return value


class MissingReceipt(_Model):
    due_days: int = Field(7, ge=0)


class DuplicateCharge(_Model):
    window_days: int = Field(1, ge=0)


class RuleSet(_Model):
    """The parameters of every rule; each section and key defaults as in :data:`DEFAULT_RULES_YAML`."""

    split_purchase: SplitPurchase = SplitPurchase()
    over_payee_cap: PayeeCap = PayeeCap()
    card_type_mismatch: CardTypeMismatch = CardTypeMismatch()
    blocked_merchant_category: BlockedCategories = BlockedCategories()
    outside_working_days: WorkingDays = WorkingDays()
    missing_receipt: MissingReceipt = MissingReceipt()
    duplicate_charge: DuplicateCharge = DuplicateCharge()

    @cached_property
    def as_dict(self) -> dict[str, Any]:
        """The parameters as plain data (dates as ISO text), for reports and JSON output."""
        return self.model_dump(mode="json")


def parse_rules(text: str, *, source: str | None = None) -> RuleSet:
    """Validate a rule file's text; an empty file gives the defaults."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError([f"not valid YAML ({exc})"], source=source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(["(document): a rule file is a mapping of rule names to settings"], source=source)
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        raise RulesError([_describe_pydantic_error(e) for e in exc.errors()], source=source) from None


def load_rules(path: str | Path) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(["file not found"], source=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"cannot read the file ({exc})"], source=str(path)) from None
    return parse_rules(text, source=str(path))


def default_rules() -> RuleSet:
    return parse_rules(DEFAULT_RULES_YAML)
