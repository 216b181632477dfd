"""PDF rendering with WeasyPrint for every document the platform produces (results letters,
survey recaps): self-contained HTML in, PDF bytes out, nothing fetched from anywhere."""

from __future__ import annotations


class _NoFetching:
    """A WeasyPrint URL fetcher that fetches nothing: a document carries its own styles and
    charts (inline SVG), and user text must never make the server request a URL."""

    _fail_on_errors = False

    def __call__(self, url: str):
        raise ValueError(f"documents load no external resources ({url[:40]})")


def pdf_bytes(html: str) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango takes time, only PDFs need it

    return HTML(string=html, url_fetcher=_NoFetching()).write_pdf()
