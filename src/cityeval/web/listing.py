"""Long lists on the pages (550 regions): search, filters and pagination read from the
querystring, so that a GET form works without JavaScript and every page of a list has its
own link. One helper for every list, so that they all behave alike; the templates
``_list_filters.html`` and ``_pagination.html`` draw its form and its page links."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any, cast
from urllib.parse import quote

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import RFC3986_SUBDELIMS

PER_PAGE = 50
SEARCH = "q"
PAGE = "page"
SEARCH_MAX = 100  # longer text is cut: a name is never that long

Apply = Callable[[QuerySet, str], QuerySet]


@dataclass(frozen=True)
class Filter:
    """One ``<select>`` of a list. ``choices`` are ``(value, label)``; the empty value means
    all. ``lookup`` is the queryset lookup the value is matched with (``region__province__name``)
    or a function ``(queryset, value) → queryset``; left out when the caller applies it."""

    name: str
    label: str | Promise
    choices: Sequence[tuple[str, str | Promise]]
    all_label: str | Promise
    lookup: str | Apply | None = None


@dataclass(frozen=True)
class ListQuery:
    """What the querystring asks for: the search text and each filter's value. A value that is
    not one of the filter's choices counts as no filter (a stale or edited link shows all)."""

    search: str
    values: dict[str, str]

    def value(self, name: str) -> str:
        # A method, not __getitem__: templates try item lookup first, so query.search would break.
        return self.values.get(name, "")


def list_query(request: HttpRequest, filters: Sequence[Filter] = ()) -> ListQuery:
    search = " ".join(request.GET.get(SEARCH, "").split())[:SEARCH_MAX]
    values = {}
    for f in filters:
        value = request.GET.get(f.name, "")
        values[f.name] = value if value in {v for v, _label in f.choices} else ""
    return ListQuery(search=search, values=values)


def _narrowed(
    items: QuerySet, query: ListQuery, search: Sequence[str], filters: Sequence[Filter]
) -> QuerySet:
    if query.search and search:
        matches = reduce(or_, (Q(**{f"{name}__icontains": query.search}) for name in search))
        items = items.filter(matches).distinct()  # a search across a relation repeats rows
    for f in filters:
        value = query.value(f.name)
        if not value or f.lookup is None:
            continue
        items = f.lookup(items, value) if callable(f.lookup) else items.filter(**{f.lookup: value})
    return items


def narrowed(
    request: HttpRequest, items: QuerySet, *, search: Sequence[str] = (), filters: Sequence[Filter] = ()
) -> QuerySet:
    """``items`` searched and filtered as the querystring asks, every page of it: what a list's
    export holds (the same parameters as :func:`listing`)."""
    return _narrowed(items, list_query(request, filters), search, filters)


@dataclass
class Listing:
    """One page of a searched and filtered list, with what its form and links need."""

    page: Page
    query: ListQuery
    filters: Sequence[Filter]
    params: QueryDict  # the request's querystring, kept in every link and form
    id: str
    search_label: str
    page_links: list[dict[str, Any]] = field(default_factory=list)

    @property
    def items(self) -> Sequence[Any]:
        # A sliced queryset or a list slice: both index and iterate like a sequence.
        return cast(Sequence[Any], self.page.object_list)

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def narrowed(self) -> bool:
        """Whether a search or a filter hides part of the list."""
        return bool(self.query.search or any(self.query.values.values()))

    def url(self, number: int) -> str:
        params = self.params.copy()
        params[PAGE] = str(number)
        return "?" + params.urlencode()

    @property
    def previous_url(self) -> str:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(self.page.next_page_number()) if self.page.has_next() else ""

    @property
    def hidden(self) -> list[tuple[str, str]]:
        """The other parameters (a sort order, say) that the filter form sends on unchanged."""
        own = {SEARCH, PAGE, *(f.name for f in self.filters)}
        return [(k, v) for k, values in self.params.lists() if k not in own for v in values]

    @property
    def clear_url(self) -> str:
        params = QueryDict(mutable=True)
        for name, value in self.hidden:
            params.appendlist(name, value)
        return "?" + params.urlencode()

    @property
    def bound_filters(self) -> list[tuple[Filter, str]]:
        return [(f, self.query.value(f.name)) for f in self.filters]


def listing(
    request: HttpRequest,
    items: QuerySet | Sequence[Any],
    *,
    search: Sequence[str] = (),
    filters: Sequence[Filter] = (),
    per_page: int = PER_PAGE,
    id: str = "list",
    search_label: str = "",
) -> Listing:
    """Search, filter and paginate ``items`` as the querystring asks (``?q=…&<filter>=…&page=…``).

    ``items`` is an ordered queryset, searched with ``icontains`` on the ``search`` fields and
    narrowed by the filters' lookups, or a list the caller built for ``list_query(request,
    filters)`` (sorted in Python, say), which is only paginated. A page number past the end
    shows the last page.
    """
    query = list_query(request, filters)
    rows = _narrowed(items, query, search, filters) if isinstance(items, QuerySet) else items
    page = Paginator(rows, per_page).get_page(request.GET.get(PAGE))
    params = request.GET.copy()
    params.pop(PAGE, None)
    for name in [SEARCH, *(f.name for f in filters)]:
        if not params.get(name):
            params.pop(name, None)
    result = Listing(page, query, filters, params, id=id, search_label=search_label)
    result.page_links = [
        {"number": n, "url": result.url(n) if isinstance(n, int) else "", "current": n == page.number}
        for n in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    return result


# --- links to one page per region, for a list of many -------------------------------------------

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # the <slug:…> converter's, written into a path unchanged
_PLACEHOLDER = "slug-placeholder"
# What ``reverse`` leaves unquoted (the ``pchar`` of RFC 3986), as django.urls.resolvers has it.
_URL_SAFE = RFC3986_SUBDELIMS + "/~:@"


def slug_links(
    viewname: str, *, slug: str, fits: re.Pattern[str] = _SLUG, **kwargs: Any
) -> Callable[[str], str]:
    """A function from a slug to ``reverse(viewname, kwargs={slug: <it>, **kwargs})``: the same
    URL, reversed once. ``fits`` is what the argument's converter takes (``<slug:…>`` by
    default); a value that does not fit is reversed as it is (and is refused as it would be).
    A value is quoted as ``reverse`` quotes it."""
    pattern = reverse(viewname, kwargs={slug: _PLACEHOLDER, **kwargs})
    before, _placeholder, after = pattern.partition(_PLACEHOLDER)
    once = pattern.count(_PLACEHOLDER) == 1  # else another argument holds it too: reverse each

    def link(value: str) -> str:
        if once and fits.fullmatch(value):
            return before + quote(value, safe=_URL_SAFE) + after
        return reverse(viewname, kwargs={slug: value, **kwargs})

    return link
