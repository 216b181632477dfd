"""The KKPD summary of a region for a year as a PDF: the evidence a region attaches to its
self-assessment (the assessments app calls :func:`summary_pdf`; this app never imports it)."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone

from cityeval.web.kkpd.charts import bar_chart
from cityeval.web.kkpd.models import KkpdRegion
from cityeval.web.kkpd.selectors import region_summary
from cityeval.web.pdf import pdf_bytes
from cityeval.web.regions.models import Region


def runs_kkpd(region: Region) -> bool:
    return KkpdRegion.objects.filter(region=region).exists()


def summary_html(*, region: Region, year: int) -> str:
    """The summary's self-contained HTML (aggregates only, as on the public page)."""
    summary = region_summary(region=region, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
    charts = {"by_month": bar_chart([(m.strftime("%Y-%m"), v) for m, v in summary.months])}
    return render_to_string(
        "kkpd/pdf/summary.html",
        {"region": region, "year": year, "summary": summary, "charts": charts, "made": timezone.localdate()},
    )


def summary_pdf(*, region: Region, year: int) -> bytes:
    return pdf_bytes(summary_html(region=region, year=year))


def summary_file_name(*, region: Region, year: int) -> str:
    return f"kkpd-summary-{region.slug}-{year}.pdf"
