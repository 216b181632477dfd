"""Reads about regions shared by the pages that list them."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from cityeval.web.listing import SEARCH_MAX, Filter
from cityeval.web.regions.models import Province, Region


def region_filters(prefix: str = "") -> list[Filter]:
    """Province and kind (kota/kabupaten), as lookups from a model with ``prefix`` to Region."""
    provinces = [(p, p) for p in Province.objects.order_by("name").values_list("name", flat=True)]
    return [
        Filter("province", _("Province"), provinces, _("All provinces"), f"{prefix}province__name"),
        Filter("kind", _("Kind"), Region.Kind.choices, _("Cities and regencies"), f"{prefix}kind"),
    ]


FINDER_LIMIT = 10
FINDER = "find"  # the querystring name of the text typed into a region finder


@dataclass(frozen=True)
class Found:
    """What a region finder shows: at most ``FINDER_LIMIT`` regions, out of ``total`` matches."""

    text: str
    regions: list[Region]
    total: int


def region_finder(request: HttpRequest, regions: QuerySet[Region]) -> Found:
    """The regions among ``regions`` whose name, code or province contains ``?find=``: a short
    list to pick from instead of a dropdown of 560 names (nothing until something is typed)."""
    # From the form that sent a pick too: a refused pick shows the same list with the reason.
    text = " ".join((request.GET.get(FINDER) or request.POST.get(FINDER, "")).split())[:SEARCH_MAX]
    if not text:
        return Found(text, [], 0)
    matches = regions.filter(
        Q(name__icontains=text) | Q(code__icontains=text) | Q(province__name__icontains=text)
    ).select_related("province")
    return Found(text, list(matches.order_by("name")[:FINDER_LIMIT]), matches.count())


def back_to_finder(url: str, request: HttpRequest) -> str:
    """``url`` with the finder's text that a pick sent back (``find``), so that the coordinator
    adding several regions sees the short list again instead of typing the name anew."""
    text = " ".join(request.POST.get(FINDER, "").split())[:SEARCH_MAX]
    return f"{url}?{urlencode({FINDER: text})}" if text else url
