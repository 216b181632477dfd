"""QR codes of the public survey links, for posters and leaflets (segno: PNG and SVG, no Pillow).

Error correction M (15 % of the code may be damaged) and the standard 4-module quiet zone: a
printed poster with a fold or a smudge still scans. The PNG is scaled to 10 pixels per module
(about 4 cm wide at 300 dpi for a link of this length); the SVG scales without loss.
"""

from __future__ import annotations

import io

import segno

KINDS = {"png": "image/png", "svg": "image/svg+xml"}


def qr_bytes(url: str, kind: str) -> bytes:
    """The QR code of ``url`` as a PNG or SVG file."""
    if kind not in KINDS:
        raise ValueError(f"unknown QR image kind {kind!r}")
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if kind == "png":
        code.save(out, kind="png", scale=10, border=4)
    else:
        code.save(out, kind="svg", scale=10, border=4, xmldecl=False, svgns=True, title=url)
    return out.getvalue()
