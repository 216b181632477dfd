"""What the scoring page keeps between requests: the parts of its item table that are the same
for every viewer, drawn once per version of what they are drawn from.

A region's page holds ~110 item rows. Their first three cells (the item with its level
descriptors, the region's self-assessment with its evidence, the proposal with the survey's
quality flags) are the same for every member and the coordinator; each member's marks are the
same until someone scores. Both are kept per process, keyed on everything they are drawn from:

- the framework by its content hash (immutable), the region's group, the page's language;
- the region's answers and evidence, and the panel region's scores, by their row count, largest
  id and latest time (:func:`sheet_versions`). Those rows are never updated nor deleted
  (answers, scores and evidence are append-only: every write path — the services, the API, the
  national loader's bulk inserts — adds rows), and ids are never used twice, so any write gives
  a new version; the latest time also tells apart a database restored to an older copy;
- the impact survey by the cache key of its quality report (``plan_quality_key``: the
  responses, forms, targets and known users);
- the assessors whose marks do not count (conflicts of interest), read on every request.

What depends on the viewer (their own marks or score inputs, the revision forms, the CSRF token,
the evidence requests, the usernames) is written on every request, as is every access decision.
A blind member's marks are kept under their own id, read without the others' (the blind rule:
the others' marks are not read for them at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser
from django.db import connection
from django.template import Context
from django.template.base import render_value_in_context
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.engine.framework import Component, Item
from cityeval.web.assessments.models import AnswerRevision, Evidence
from cityeval.web.assessments.selectors import latest_answers
from cityeval.web.kept import Kept
from cityeval.web.panels.access import PanelRegionAccess
from cityeval.web.panels.forms import ScoresForm, note_field, score_field
from cityeval.web.panels.models import ItemScore, PanelMember
from cityeval.web.panels.scoresheet import evidence_requests, latest_scores, proposal_for
from cityeval.web.panels.tables import conflicted_members
from cityeval.web.panels.templatetags.panels_tags import mark, region_cells_html, score_inputs_html
from cityeval.web.surveys.selectors import impact_flags, plan_quality, plan_quality_key, proposed_levels

# --- versions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetVersions:
    """(rows, largest id, latest time) of the region's answers, its evidence and the panel
    region's scores."""

    answers: tuple
    evidence: tuple
    scores: tuple


def _aggregates(model, column: str, time_column: str) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    where = f"WHERE {connection.ops.quote_name(column)} = %s"
    time = connection.ops.quote_name(time_column)
    return (
        f"(SELECT COUNT(*) FROM {table} {where}), (SELECT MAX(id) FROM {table} {where}), "
        f"(SELECT MAX({time}) FROM {table} {where})"
    )


def sheet_versions(access: PanelRegionAccess) -> SheetVersions:
    """One query (three tables, each read from an index on its region or panel region)."""
    sql = "SELECT " + ", ".join(
        [
            _aggregates(AnswerRevision, "participation_id", "created_at"),
            _aggregates(Evidence, "participation_id", "uploaded_at"),
            _aggregates(ItemScore, "panel_region_id", "created_at"),
        ]
    )
    participation, panel_region = access.participation.pk, access.panel_region.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [participation] * 6 + [panel_region] * 3)
        row = tuple(cursor.fetchone())
    return SheetVersions(answers=row[0:3], evidence=row[3:6], scores=row[6:9])


# --- the region's cells --------------------------------------------------------------------------

REGIONS_KEPT = 32  # regions' cells a process keeps (~130 KB each)
# ... and at most this many characters of them in all: a region whose texts are very long (its
# answers may hold 10,000 characters an item) is drawn on every request rather than kept.
CELLS_BUDGET = 16 * 2**20
_region_cells: Kept[RegionCells] = Kept(
    REGIONS_KEPT, weigh=lambda cells: sum(map(len, cells.html.values())), budget=CELLS_BUDGET
)
DESCRIPTORS_KEPT = 4096  # items' level descriptors (per framework and language)
_descriptors: Kept[str] = Kept(DESCRIPTORS_KEPT)


def descriptors_html(framework: Framework, digest: str, item: Item) -> str:
    """The item's level descriptors as the page shows them, drawn once per framework, item
    and language."""
    key = (digest, item.code, get_language() or "")
    html = _descriptors.find(key)
    if html is None:
        descriptors = framework.descriptors_for(item)
        html = (
            render_to_string("assessments/_descriptors.html", {"descriptors": descriptors})
            if descriptors
            else ""
        )
        _descriptors.put(key, html)
    return html


@dataclass(frozen=True)
class RegionCells:
    """Per item code, the start of its row up to its marks cell (see
    ``panels_tags.region_cells_html``), and the proposal and survey flags it shows."""

    html: Mapping[str, str]
    proposals: Mapping[str, float | None]
    survey_flags: Mapping[str, tuple[str, ...]]


def region_cells(access: PanelRegionAccess, versions: SheetVersions, survey_key: str | None) -> RegionCells:
    """The region's cells, the same for every viewer."""
    participation = access.participation
    digest = access.cycle.framework.digest
    key = (
        participation.pk,
        participation.group,
        digest,
        get_language() or "",
        versions.answers,
        versions.evidence,
        survey_key,
    )
    cells = _region_cells.find(key)
    if cells is None:
        rows = _region_rows(access)
        cells = RegionCells(
            html=MappingProxyType(region_cells_html(rows)),
            proposals=MappingProxyType({row.item.code: row.proposal for row in rows}),
            survey_flags=MappingProxyType({row.item.code: tuple(row.survey_flags) for row in rows}),
        )
        _region_cells.put(key, cells)
    return cells


@dataclass(frozen=True)
class RegionRow:
    """What the first three cells of an item's row are drawn from."""

    component: Component
    item: Item
    answer: Any  # LatestAnswer | None
    evidence: list[Evidence]
    proposal: float | None
    survey_flags: list[str]
    descriptors: str


def _region_rows(access: PanelRegionAccess) -> list[RegionRow]:
    participation = access.participation
    framework = access.framework
    digest = access.cycle.framework.digest
    answers = latest_answers(participation)
    quality = plan_quality(participation)
    survey = proposed_levels(participation, quality=quality) or {}
    flags = impact_flags(participation, quality=quality)
    evidence: dict[str, list[Evidence]] = {}
    for row in Evidence.objects.filter(participation=participation).order_by("uploaded_at", "id"):
        evidence.setdefault(row.item, []).append(row)
    rows = []
    for component, item in framework.items_for(participation.group):
        answer = answers.get(item.code)
        rows.append(
            RegionRow(
                component=component,
                item=item,
                answer=answer,
                evidence=evidence.get(item.code, []),
                proposal=proposal_for(framework, item, answer, survey),
                survey_flags=flags.get(item.code, []),
                descriptors=descriptors_html(framework, digest, item),
            )
        )
    return rows


# --- the marks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkCell:
    """One assessor's marks of one item as the page shows them: the mark (``mark`` filter),
    the counted score and note (a member's score inputs) and how many rows they recorded."""

    html: str
    score: float
    note: str
    revisions: int


@dataclass(frozen=True)
class PanelMarks:
    by_item: Mapping[str, Mapping[int, MarkCell]]
    assessors: frozenset[int]  # every assessor with a mark here


MARKS_KEPT = 64  # (panel region, viewer scope) marks a process keeps (~110 items × 5 each)
MARKS_BUDGET = 16 * 2**20  # characters of marks and notes in all (notes may be long)
_marks: Kept[PanelMarks] = Kept(
    MARKS_KEPT,
    weigh=lambda marks: sum(len(c.html) + len(c.note) for by in marks.by_item.values() for c in by.values()),
    budget=MARKS_BUDGET,
)


def panel_marks(
    access: PanelRegionAccess, *, viewer_id: int | None, versions: SheetVersions, excluded: frozenset[int]
) -> PanelMarks:
    """``{item: {assessor id: MarkCell}}``: every member's marks, or only ``viewer_id``'s (a
    blind member: the others' are not read)."""
    panel_region = access.panel_region
    key = (panel_region.pk, viewer_id, get_language() or "", versions.scores, excluded)
    marks = _marks.find(key)
    if marks is None:
        scores = latest_scores(panel_region, assessor_id=viewer_id, excluded=excluded)
        counts: dict[tuple[str, int], int] = {}
        rows = ItemScore.objects.filter(panel_region=panel_region)
        if viewer_id is not None:
            rows = rows.filter(assessor_id=viewer_id)
        for item, assessor_id in rows.order_by().values_list("item", "assessor_id"):
            counts[item, assessor_id] = counts.get((item, assessor_id), 0) + 1
        by_item = MappingProxyType(
            {
                item: MappingProxyType(
                    {
                        uid: MarkCell(
                            html=str(mark(m)), score=m.score, note=m.note, revisions=counts[item, uid]
                        )
                        for uid, m in by_assessor.items()
                    }
                )
                for item, by_assessor in scores.items()
            }
        )
        marks = PanelMarks(by_item, frozenset(uid for by in scores.values() for uid in by))
        _marks.put(key, marks)
    return marks


# --- a member's score inputs ---------------------------------------------------------------------

_SENTINEL = "\x00"
_VALUE = ' value="'
INPUTS_KEPT = 16  # (framework, group, language) score inputs a process keeps
_inputs: Kept[Mapping[str, tuple[str, str, str]]] = Kept(INPUTS_KEPT)


def form_inputs(form: ScoresForm, code: str) -> str:
    """The score and note inputs of item ``code`` as ``form`` draws them."""
    context = Context()
    return score_inputs_html(
        form[score_field(code)],
        form[note_field(code)],
        lambda v: render_value_in_context(v, context),
        {"score": _("Score"), "note": _("Note")},
    )


def score_inputs(access: PanelRegionAccess, codes: list[str]) -> Mapping[str, tuple[str, str, str]] | None:
    """Per item, a member's score and note inputs (as ``panels_tags.score_inputs_html`` writes
    them for an unbound :class:`ScoresForm`) cut around their values: drawn once per framework,
    group and language by the form itself, with a marker as every value. None if the inputs do
    not come out as expected (then the page builds the form)."""
    key = (access.cycle.framework.digest, access.participation.group, get_language() or "")
    parts = _inputs.find(key)
    if parts is None:
        initial = {name(code): _SENTINEL for code in codes for name in (score_field, note_field)}
        form = ScoresForm(initial=initial, codes=codes, framework=access.framework)
        found = {}
        for code in codes:
            cut = form_inputs(form, code).split(_SENTINEL)
            if len(cut) != 3 or not cut[0].endswith(_VALUE) or not cut[1].startswith('"'):
                return None
            found[code] = (cut[0], cut[1], cut[2])
        parts = MappingProxyType(found)
        _inputs.put(key, parts)
    return parts


def filled_inputs(parts: tuple[str, str, str], mine: MarkCell | None) -> str:
    """The inputs of :func:`score_inputs` with the member's latest score and note, as the form
    writes them (no value attribute without a score; the note escaped)."""
    before, between, after = parts
    if mine is None:
        return before[: -len(_VALUE)] + between[1:] + after
    note = conditional_escape(str(mine.note)) if mine.note else ""
    return before + conditional_escape(str(mine.score)) + between + note + after


# --- the sheet -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringSheet:
    """What the scoring page's rows are written from (``panels_tags.scoring_rows``)."""

    items: list[tuple[Component, Item]]
    region: RegionCells
    marks: Mapping[str, Mapping[int, MarkCell]]
    viewer_id: int
    assessors: list[tuple[int, str]]  # (id, escaped username) of every marking assessor, by username
    requested: frozenset[str]  # the items marked "needs evidence"
    inputs: Mapping[str, tuple[str, str, str]] | None = None
    scores_form: ScoresForm | None = None  # a posted form (with its errors) to show instead

    def score_inputs(self, item: str, mine: MarkCell | None) -> str:
        if self.scores_form is not None or self.inputs is None:
            assert self.scores_form is not None
            return form_inputs(self.scores_form, item)
        return filled_inputs(self.inputs[item], mine)

    def revisions(self) -> dict[str, int]:
        """How many rows the viewer recorded per item."""
        viewer = self.viewer_id
        return {item: by[viewer].revisions for item, by in self.marks.items() if viewer in by}


def scoring_sheet(
    access: PanelRegionAccess,
    viewer: AuthUser,
    *,
    members: list[PanelMember],
    mark_first: bool,
    scores_form=None,
) -> ScoringSheet:
    """The viewer's sheet: the region's cells and the marks from the caches (their versions
    read first), the usernames, the evidence requests and the conflicts read now."""
    participation = access.participation
    items = list(access.framework.items_for(participation.group))
    versions = sheet_versions(access)
    cells = region_cells(access, versions, plan_quality_key(participation))
    excluded = frozenset(conflicted_members(access.panel_region))
    marks = panel_marks(
        access, viewer_id=None if access.sees_all_scores else viewer.pk, versions=versions, excluded=excluded
    )
    names = {m.user_id: m.user.get_username() for m in members}
    if missing := marks.assessors - names.keys():
        names |= {u.pk: u.get_username() for u in get_user_model().objects.filter(pk__in=missing)}
    assessors = sorted(((uid, names[uid]) for uid in marks.assessors), key=lambda pair: pair[1])
    inputs = None
    codes = [item.code for _component, item in items]
    if mark_first and scores_form is None:
        inputs = score_inputs(access, codes)
        if inputs is None:  # inputs not cut as expected: the form itself, with the latest marks
            scores_form = _initial_form(access, codes, marks.by_item, viewer.pk)
    return ScoringSheet(
        items=items,
        region=cells,
        marks=marks.by_item,
        viewer_id=viewer.pk,
        assessors=[(uid, conditional_escape(name)) for uid, name in assessors],
        requested=frozenset(evidence_requests(access.panel_region)),
        inputs=inputs,
        scores_form=scores_form,
    )


def _initial_form(access: PanelRegionAccess, codes: list[str], marks, viewer_id: int) -> ScoresForm:
    initial = {}
    for code in codes:
        if (mine := marks.get(code, {}).get(viewer_id)) is not None:
            initial[score_field(code)] = mine.score
            initial[note_field(code)] = mine.note
    return ScoresForm(initial=initial, codes=codes, framework=access.framework)


def forget() -> None:
    """Empty the caches (tests)."""
    for cache in (_region_cells, _descriptors, _marks, _inputs):
        cache.clear()
