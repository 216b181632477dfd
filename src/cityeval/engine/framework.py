"""Evaluation frameworks: YAML files validated into frozen models.

A framework says what is scored and how it is weighted: the score scale, the cohort groups,
the components (result chain) with a weight per group, the items of each component, the
dimension → sub-dimension → statement tree the impact survey asks about, and optional bands.
Its identity is a content hash of the validated model, so a comment or a reordering of keys in
the YAML does not change it, while any change to what is scored does.

Validation happens once, here. Errors name the YAML path, e.g.
``components[2].items[4].thresholds[1].at_least: thresholds must increase``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityeval.engine.errors import FrameworkError

__all__ = [
    "Band",
    "Component",
    "Descriptor",
    "Dimension",
    "Framework",
    "Group",
    "Item",
    "Label",
    "Scale",
    "Statement",
    "SubDimension",
    "Threshold",
    "builtin_frameworks",
    "builtin_source",
    "load_framework",
    "parse_framework",
]

WEIGHT_TOTAL = 100.0
_WEIGHT_TOLERANCE = 1e-9


class _Model(BaseModel):
    # Each model's validator is built when it is first used, not when its class is defined:
    # validating a framework builds the ones it needs in one go, and a command that only
    # imports this module (or loads one framework) does not pay for a dozen separate builds.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Label(_Model):
    """A text in Bahasa Indonesia (``id``) and English (``en``)."""

    id: str = Field(min_length=1)
    en: str = Field(min_length=1)


def label_text(label: Label, language: str) -> str:
    """The label's text in ``language``, a language code such as ``id``, ``en`` or ``en-us``:
    English for English, Bahasa Indonesia for anything else (the platform's first language).
    The one rule for every page, letter, form and report that shows a label."""
    return label.en if language[:2].lower() == "en" else label.id


class Scale(_Model):
    min: float
    max: float

    def contains(self, value: float) -> bool:
        return self.min <= value <= self.max


class Group(_Model):
    """A cohort group with its own weights (GMSC: ``REGULER``, ``KPPN_IKN``).

    ``aliases`` are other spellings accepted for the group in input tables and options, e.g.
    ``R`` or ``Reguler`` as the ministry's tables write them. Codes and aliases are matched
    ignoring case and repeated spaces (:func:`group_key`).
    """

    code: str = Field(min_length=1)
    label: Label
    aliases: tuple[str, ...] = ()


def group_key(text: str) -> str:
    """How group spellings are compared: ``" kppn  &  IKN "`` → ``"kppn & ikn"``."""
    return " ".join(text.split()).casefold()


class Threshold(_Model):
    """A raw value of at least ``at_least`` maps to ``level``."""

    at_least: float
    level: float


class Descriptor(_Model):
    """What a level means for an item: guidance for the region and the assessors."""

    level: float
    label: Label


# The descriptor set an item uses when it names none: by the kind of item. A survey item's
# level is the survey mean, so it has no descriptors unless it names a set.
DEFAULT_GUIDANCE = {"level": "practice", "quantity": "quantity"}


class Item(_Model):
    """One scored item of a component.

    ``kind``:
      - ``level``: assessors give a level on the scale;
      - ``quantity``: a count or percentage; ``thresholds`` (if given) map it to a level;
      - ``survey``: linked to a survey ``statement``; its proposed level is the survey mean.

    ``dimension`` places the item in the dimension tree for per-dimension breakdowns (a survey
    item is placed by its statement). ``groups`` restricts the item to some cohort groups; by
    default it applies to every group the component is weighted for.
    """

    code: str = Field(min_length=1)
    label: Label
    kind: Literal["level", "quantity", "survey"] = "level"
    unit: Literal["count", "percent"] | None = None
    thresholds: tuple[Threshold, ...] | None = None
    statement: str | None = None
    dimension: str | None = None
    groups: tuple[str, ...] | None = None
    note: str | None = None
    guidance: str | None = None  # a set of the framework's level_descriptors, e.g. "document"
    descriptors: tuple[Descriptor, ...] | None = None  # this item's own, instead of a set


class Component(_Model):
    """A component of the result chain, weighted (in %) per cohort group.

    A group missing from ``weights`` does not have this component.
    """

    code: str = Field(min_length=1)
    label: Label
    weights: dict[str, float]
    items: tuple[Item, ...] = Field(min_length=1)
    note: str | None = None

    def applies_to(self, group: str) -> bool:
        return group in self.weights

    def items_for(self, group: str) -> tuple[Item, ...]:
        if not self.applies_to(group):
            return ()
        return tuple(i for i in self.items if i.groups is None or group in i.groups)


class Statement(_Model):
    code: str = Field(min_length=1)
    label: Label


class SubDimension(_Model):
    code: str = Field(min_length=1)
    label: Label
    statements: tuple[Statement, ...] = ()


class Dimension(_Model):
    code: str = Field(min_length=1)
    label: Label
    subdimensions: tuple[SubDimension, ...] = ()


class Band(_Model):
    """A named band of the final score, from ``min`` (inclusive) up to the next band."""

    label: Label
    min: float


class Framework(_Model):
    code: str = Field(min_length=1)
    title: Label
    year: int | None = None
    notes: str | None = None
    scale: Scale
    groups: tuple[Group, ...] = Field(min_length=1)
    components: tuple[Component, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = ()
    bands: tuple[Band, ...] = ()
    # Named sets of level descriptors (cityeval's guidance, not the ministry's): what each
    # level means for a kind of item, e.g. "document", "quantity", "practice".
    level_descriptors: dict[str, tuple[Descriptor, ...]] = {}

    @cached_property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of the validated model: the framework's identity."""
        data = self.model_dump(mode="json")
        for group in data["groups"]:
            # Frameworks without aliases keep the identity they had before aliases existed.
            if not group["aliases"]:
                del group["aliases"]
        # Likewise frameworks without level descriptors (added in issue 11).
        if not data["level_descriptors"]:
            del data["level_descriptors"]
        for item in (item for component in data["components"] for item in component["items"]):
            for key in ("guidance", "descriptors"):
                if item[key] is None:
                    del item[key]
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    @property
    def group_codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.groups)

    @cached_property
    def _group_spellings(self) -> dict[str, str]:
        return {group_key(name): g.code for g in self.groups for name in (g.code, *g.aliases)}

    def resolve_group(self, text: str) -> str | None:
        """The code of the group ``text`` names (its code or an alias, any case), or None."""
        return self._group_spellings.get(group_key(text))

    @property
    def component_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.components)

    def component(self, code: str) -> Component:
        for c in self.components:
            if c.code == code:
                return c
        raise KeyError(code)

    def weights_for(self, group: str) -> dict[str, float]:
        """Component weights of a group as fractions summing to 1."""
        return {c.code: c.weights[group] / WEIGHT_TOTAL for c in self.components if c.applies_to(group)}

    def items_for(self, group: str) -> Iterator[tuple[Component, Item]]:
        """The (component, item) pairs a region of ``group`` is expected to be scored on."""
        for c in self.components:
            for i in c.items_for(group):
                yield c, i

    @cached_property
    def items_by_code(self) -> dict[str, tuple[Component, Item]]:
        return {i.code: (c, i) for c in self.components for i in c.items}

    @cached_property
    def statements_by_code(self) -> dict[str, tuple[Dimension, SubDimension, Statement]]:
        return {s.code: (d, sd, s) for d in self.dimensions for sd in d.subdimensions for s in sd.statements}

    def item_dimension(self, item: Item) -> str | None:
        """The dimension an item belongs to, from its own field or its survey statement."""
        if item.dimension is not None:
            return item.dimension
        if item.statement is not None:
            return self.statements_by_code[item.statement][0].code
        return None

    def level_for(self, item: Item, raw: float) -> float | None:
        """The level a raw value of a ``quantity`` item maps to, or None without thresholds."""
        if item.thresholds is None:
            return None
        level = self.scale.min
        for t in item.thresholds:
            if raw >= t.at_least:
                level = t.level
        return level

    def descriptors_for(self, item: Item) -> tuple[Descriptor, ...]:
        """What each level means for ``item``: its own descriptors, else the set it names, else
        the set for its kind (``DEFAULT_GUIDANCE``); empty when the framework has none."""
        if item.descriptors is not None:
            return item.descriptors
        return self.level_descriptors.get(item.guidance or DEFAULT_GUIDANCE.get(item.kind, ""), ())

    def band_for(self, score: float) -> Band | None:
        chosen = None
        for b in sorted(self.bands, key=lambda b: b.min):
            if score >= b.min:
                chosen = b
        return chosen


# --- loading -------------------------------------------------------------------------------


# A framework is a few hundred lines; the largest built-in is under 100 kB.
MAX_FRAMEWORK_BYTES = 2 * 1024 * 1024


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate mapping keys, which PyYAML silently overwrites."""


class _NoAliasLoader(_UniqueKeyLoader):
    """Refuses aliases (``*name``) too: a few nested aliases expand to billions of nodes
    ("billion laughs"), and no framework needs them."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        return super().compose_node(parent, index)


# The built-in frameworks are text shipped with cityeval: read with libyaml where PyYAML has it,
# about eight times faster than the pure-Python parser (most of `cityeval frameworks`' time).
# libyaml composes aliases itself, so this loader cannot refuse them: the built-ins have none,
# which tests/engine/test_framework.py checks by parsing each with the strict loader as well.
class _BuiltinLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # chosen at run time
    """Duplicate keys refused, as by the strict loader."""


def _construct_mapping(loader: yaml.SafeLoader | yaml.CSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_BuiltinLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_BUILTIN_PACKAGE = "cityeval.engine.frameworks"


def builtin_frameworks() -> list[str]:
    """Names of the frameworks shipped with cityeval, e.g. ``gmsc-2023``."""
    folder = resources.files(_BUILTIN_PACKAGE)
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_source(name: str) -> str:
    """The YAML text of a built-in framework (what its content hash is computed from)."""
    if name not in builtin_frameworks():
        raise FrameworkError(
            [f"no built-in framework {name!r} (built-ins: {', '.join(builtin_frameworks())})"]
        )
    return (resources.files(_BUILTIN_PACKAGE) / f"{name}.yaml").read_text(encoding="utf-8")


def load_framework(name_or_path: str | Path) -> Framework:
    """Load a built-in framework by name or a framework YAML file by path."""
    text_name = str(name_or_path)
    if text_name in builtin_frameworks():
        return _builtin_framework(text_name)
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(builtin_frameworks())
        raise FrameworkError([f"no built-in framework or file named {text_name!r} (built-ins: {known})"])
    try:
        if path.stat().st_size > MAX_FRAMEWORK_BYTES:
            raise FrameworkError([_too_large(MAX_FRAMEWORK_BYTES)], source=str(path))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FrameworkError([f"not UTF-8 text ({exc.reason})"], source=str(path)) from None
    return parse_framework(text, source=str(path))


@cache
def _builtin_framework(name: str) -> Framework:
    """A built-in framework, parsed once per process: its text ships with the package and the
    model is frozen, so every caller can share it (parsing one takes about 0.3 s)."""
    return _parse(builtin_source(name), source=name, max_bytes=MAX_FRAMEWORK_BYTES, loader=_BuiltinLoader)


def parse_framework(
    text: str, *, source: str | None = None, max_bytes: int = MAX_FRAMEWORK_BYTES, allow_aliases: bool = False
) -> Framework:
    """Validate a framework YAML document into a :class:`Framework`.

    A document over ``max_bytes`` (UTF-8) is refused before it is parsed, and so is any alias
    (``*name``), which keeps the parse's time and memory proportional to the text.
    ``allow_aliases`` is for re-reading text stored before aliases were refused (a version a
    cycle is pinned to must keep parsing); new text never passes it.
    """
    loader = _UniqueKeyLoader if allow_aliases else _NoAliasLoader
    return _parse(text, source=source, max_bytes=max_bytes, loader=loader)


def _parse(text: str, *, source: str | None, max_bytes: int, loader: Any) -> Framework:
    if len(text) > max_bytes or len(text.encode("utf-8")) > max_bytes:
        raise FrameworkError([_too_large(max_bytes)], source=source)
    try:
        data = yaml.load(text, Loader=loader)
    except RecursionError:
        # Thousands of nested brackets exhaust the parser's recursion before any size check.
        raise FrameworkError(["invalid YAML: nested too deeply"], source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrameworkError([f"{where}invalid YAML: {problem}"], source=source) from None
    if not isinstance(data, dict):
        raise FrameworkError(["the document must be a mapping"], source=source)
    try:
        framework = Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError([_describe_pydantic_error(e) for e in exc.errors()], source=source) from None
    problems = list(_check(framework))
    if problems:
        raise FrameworkError(problems, source=source)
    return framework


def _too_large(max_bytes: int) -> str:
    return f"the file is larger than the limit of {max_bytes / 2**20:g} MB"


def _path(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _describe_pydantic_error(error: Any) -> str:
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{_path(loc)}: unknown key"
    if kind == "missing":
        return f"{_path(loc)}: required key is missing"
    return f"{_path(loc)}: {error['msg']}"


def _check(fw: Framework) -> Iterator[str]:
    """Cross-field checks that a schema alone cannot express."""
    yield from _check_scale_and_bands(fw)
    group_codes = [g.code for g in fw.groups]
    yield from _duplicates(group_codes, "groups", "code")
    yield from _check_group_aliases(fw)
    yield from _check_tree(fw)
    yield from _check_components(fw, set(group_codes))
    yield from _check_descriptors(fw)


def _check_descriptors(fw: Framework) -> Iterator[str]:
    """Descriptor levels lie on the scale, increasing; an item names only a defined set."""
    for name, levels in fw.level_descriptors.items():
        yield from _descriptor_levels(fw, levels, f"level_descriptors.{name}")
    for ci, comp in enumerate(fw.components):
        for ii, item in enumerate(comp.items):
            where = f"components[{ci}].items[{ii}]"
            if item.guidance is not None and item.guidance not in fw.level_descriptors:
                known = ", ".join(sorted(fw.level_descriptors)) or "none defined"
                yield (
                    f"{where}.guidance: unknown descriptor set {item.guidance!r} (level_descriptors: {known})"
                )
            if item.descriptors is not None:
                yield from _descriptor_levels(fw, item.descriptors, f"{where}.descriptors")


def _descriptor_levels(fw: Framework, levels: tuple[Descriptor, ...], path: str) -> Iterator[str]:
    previous = None
    for index, descriptor in enumerate(levels):
        if not fw.scale.contains(descriptor.level):
            yield f"{path}[{index}].level: {descriptor.level:g} is outside the scale {_scale(fw)}"
        if previous is not None and descriptor.level <= previous:
            yield f"{path}[{index}].level: levels must be listed in increasing order"
        previous = descriptor.level


def _check_group_aliases(fw: Framework) -> Iterator[str]:
    """No spelling may name two groups: ``R`` cannot be an alias of both."""
    seen: dict[str, str] = {}
    for index, group in enumerate(fw.groups):
        for position, name in enumerate((group.code, *group.aliases)):
            key = group_key(name)
            here = f"groups[{index}]." + ("code" if position == 0 else f"aliases[{position - 1}]")
            if not key:
                yield f"{here}: an alias must not be empty"
            elif key in seen and seen[key] != group.code:
                yield f"{here}: {name!r} already names group {seen[key]!r}"
            seen.setdefault(key, group.code)


def _duplicates(codes: list[str], path: str, field: str) -> Iterator[str]:
    seen: dict[str, int] = {}
    for index, code in enumerate(codes):
        if code in seen:
            yield f"{path}[{index}].{field}: duplicate code {code!r} (first at {path}[{seen[code]}])"
        else:
            seen[code] = index


def _check_scale_and_bands(fw: Framework) -> Iterator[str]:
    if fw.scale.min >= fw.scale.max:
        yield f"scale: min ({fw.scale.min:g}) must be below max ({fw.scale.max:g})"
    previous = None
    for index, band in enumerate(fw.bands):
        if not fw.scale.contains(band.min):
            yield f"bands[{index}].min: {band.min:g} is outside the scale {_scale(fw)}"
        if previous is not None and band.min <= previous:
            yield f"bands[{index}].min: bands must be listed with increasing min"
        previous = band.min


def _scale(fw: Framework) -> str:
    return f"{fw.scale.min:g}–{fw.scale.max:g}"


def _check_tree(fw: Framework) -> Iterator[str]:
    yield from _duplicates([d.code for d in fw.dimensions], "dimensions", "code")
    sub_codes: dict[str, str] = {}
    statement_codes: dict[str, str] = {}
    for di, dim in enumerate(fw.dimensions):
        for si, sub in enumerate(dim.subdimensions):
            here = f"dimensions[{di}].subdimensions[{si}]"
            if sub.code in sub_codes:
                yield f"{here}.code: duplicate code {sub.code!r} (first at {sub_codes[sub.code]})"
            sub_codes.setdefault(sub.code, here)
            for ti, st in enumerate(sub.statements):
                there = f"{here}.statements[{ti}]"
                if st.code in statement_codes:
                    yield (f"{there}.code: duplicate code {st.code!r} (first at {statement_codes[st.code]})")
                statement_codes.setdefault(st.code, there)


def _check_components(fw: Framework, groups: set[str]) -> Iterator[str]:
    yield from _duplicates([c.code for c in fw.components], "components", "code")
    item_codes: dict[str, str] = {}
    dimension_codes = {d.code for d in fw.dimensions}
    for ci, comp in enumerate(fw.components):
        here = f"components[{ci}]"
        for group, weight in comp.weights.items():
            if group not in groups:
                yield f"{here}.weights.{group}: unknown group (groups: {', '.join(sorted(groups))})"
            if weight < 0:
                yield f"{here}.weights.{group}: weight must not be negative"
            elif weight > 0 and not comp.items_for(group):
                yield f"{here}.weights.{group}: the component is weighted for {group} but has no items for it"
        for ii, item in enumerate(comp.items):
            where = f"{here}.items[{ii}]"
            if item.code in item_codes:
                yield f"{where}.code: duplicate code {item.code!r} (first at {item_codes[item.code]})"
            item_codes.setdefault(item.code, where)
            yield from _check_item(fw, comp, item, where, dimension_codes)
    for group in sorted(groups):
        total = sum(c.weights.get(group, 0.0) for c in fw.components)
        if abs(total - WEIGHT_TOTAL) > _WEIGHT_TOLERANCE:
            parts = " + ".join(f"{c.code} {c.weights[group]:g}" for c in fw.components if group in c.weights)
            yield (
                f"components[*].weights.{group}: weights sum to {total:g}, not 100"
                + (f" ({parts})" if parts else "")
            )
        elif not any(comp.items_for(group) for comp in fw.components):
            yield f"groups: group {group!r} has no items"


def _check_item(
    fw: Framework, comp: Component, item: Item, where: str, dimension_codes: set[str]
) -> Iterator[str]:
    if item.kind == "survey":
        if item.statement is None:
            yield f"{where}.statement: a survey item needs a statement"
        elif item.statement not in fw.statements_by_code:
            yield f"{where}.statement: no statement {item.statement!r} in the dimension tree"
    elif item.statement is not None:
        yield f"{where}.statement: only survey items link to a statement"
    if item.kind != "quantity" and (item.unit is not None or item.thresholds is not None):
        yield f"{where}: unit and thresholds are only for quantity items"
    if item.kind == "quantity" and item.unit is None:
        yield f"{where}.unit: a quantity item needs a unit (count or percent)"
    if item.dimension is not None and item.dimension not in dimension_codes:
        yield f"{where}.dimension: no dimension {item.dimension!r}"
    for group in item.groups or ():
        if group not in comp.weights:
            yield f"{where}.groups: component {comp.code!r} has no weight for group {group!r}"
    yield from _check_thresholds(fw, item, where)


def _check_thresholds(fw: Framework, item: Item, where: str) -> Iterator[str]:
    previous: Threshold | None = None
    for ti, t in enumerate(item.thresholds or ()):
        at = f"{where}.thresholds[{ti}]"
        if not fw.scale.contains(t.level):
            yield f"{at}.level: {t.level:g} is outside the scale {_scale(fw)}"
        if previous is not None and t.at_least <= previous.at_least:
            yield f"{at}.at_least: thresholds must increase ({t.at_least:g} after {previous.at_least:g})"
        if previous is not None and t.level < previous.level:
            yield f"{at}.level: levels must not decrease ({t.level:g} after {previous.level:g})"
        previous = t
