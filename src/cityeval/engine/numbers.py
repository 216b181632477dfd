"""Numbers as the ministry prints them: one rounding rule for every displayed value.

The engine never rounds its results; everything that shows a number to a person (the CLI
table, web pages, PDF letters) rounds it here, and CSV/JSON exports stay unrounded.

The rule, and why. The published letters round *half up on the decimal value*: a final of
2.125 is printed 2.13 and 3.405 is printed 3.41. Python's ``f"{x:.2f}"`` rounds the binary
float instead (2.125 → 2.12 by round-half-even; 3.405 is stored as 3.40499999… → 3.40), and
sums of weight × mean carry float noise (0.1·3.6 + … gives 2.1249999999999996 for a decimal
2.125). So a value is rounded in two steps:

1. **Snap** the float to :data:`SIGNIFICANT_DIGITS` (12) significant decimal digits. This
   removes float noise (which sits around the 16th digit) and recovers the decimal value the
   ministry computes from its decimal inputs: 2.1249999999999996 → 2.125, 3.405 → 3.405.
   It cannot move a genuine value across a rounding boundary: scores are means of marks with
   small denominators (panels of ~5, components of ≤ ~60 items, ≤ a few thousand survey
   answers), so a genuine value is either exactly on a half-cent or at least ~1e-8 away
   from it, far above the 1e-11 that snapping can change in a value below 10.
2. **Round half up** to ``places`` decimals with :data:`decimal.ROUND_HALF_UP`, which for
   negative values means *half away from zero*: −0.265 → −0.27, as a printed improvement
   of "−0,27" mirrors "+0,27". This is what people mean by "half up" in published tables.

``Decimal`` and ``int`` inputs are exact already and are only rounded (step 2).

Spreadsheets (XLSX) keep the unrounded value in the cell and show it with the number format
:data:`TWO_DECIMALS`. Excel displays a cell from its value's first 15 significant decimal
digits, rounded half up (3.405 shows as 3.41, 2.1249999999999996 as 2.13), and LibreOffice
also rounds half up after correcting the binary representation, so both show the digits this
rule gives.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext

__all__ = ["SIGNIFICANT_DIGITS", "TWO_DECIMALS", "format_number", "round_half_up"]

SIGNIFICANT_DIGITS = 12
#: The XLSX number format of scores: the full value is kept, two decimals are shown.
TWO_DECIMALS = "0.00"
MISSING = "–"


def round_half_up(value: float | int | Decimal, places: int = 2) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals, on its decimal value.

    >>> round_half_up(2.125), round_half_up(3.405), round_half_up(-0.265)
    (Decimal('2.13'), Decimal('3.41'), Decimal('-0.27'))

    Raises ``ValueError`` for NaN and infinities, which have no decimal value.
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no decimal value")
        exact = Decimal(format(value, f".{SIGNIFICANT_DIGITS}g"))
    else:
        exact = Decimal(value)
        if not exact.is_finite():
            raise ValueError(f"{value} has no decimal value")
    with localcontext() as context:
        # Enough digits for the whole value plus its decimals: quantize raises, rather than
        # rounds, when the result needs more digits than the context's default 28.
        context.prec = max(context.prec, exact.adjusted() + places + 2)
        rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    # A value that rounds to zero is shown as 0.00, never as "-0.00".
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_number(
    value: float | int | Decimal | None,
    places: int = 2,
    *,
    signed: bool = False,
    decimal_mark: str = ".",
    missing: str = MISSING,
) -> str:
    """A value for reading: :func:`round_half_up`, then written with ``places`` decimals.

    ``signed`` writes a ``+`` before positive values (improvements: ``+0.44``, ``-0.26``);
    ``decimal_mark`` is ``","`` for Indonesian pages, ``"."`` for English and the CLI.
    ``None``, NaN and infinities (float or ``Decimal``) are written as ``missing``: they are
    no score a person can read, and a page must not fail on them.

    >>> format_number(2.125), format_number(2.125, decimal_mark=","), format_number(0.44, signed=True)
    ('2.13', '2,13', '+0.44')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    if isinstance(value, Decimal) and not value.is_finite():
        return missing
    rounded = round_half_up(value, places)
    text = f"{rounded:+f}" if signed else f"{rounded:f}"
    return text.replace(".", decimal_mark) if decimal_mark != "." else text
