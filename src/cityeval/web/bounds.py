"""The largest whole number a user may enter into an integer column, the same on every database.

A ``PositiveIntegerField`` is PostgreSQL's 32-bit ``integer``; SQLite would store up to
2**63 - 1, so the smaller range is the one both hold. Forms (``max_value``), API schemas
(``le``) and services check against this one constant, so an out-of-range number is a clear
refusal, never a database error (a 500).
"""

from __future__ import annotations

from django.db.models import Model

#: The largest value of a ``PositiveIntegerField`` column (PostgreSQL ``integer``): 2**31 - 1.
POSITIVE_INTEGER_MAX = 2_147_483_647


def max_length(model: type[Model], field: str) -> int:
    """The most characters the text column ``field`` of ``model`` holds, for services that
    refuse an over-long value before the database would."""
    length = getattr(model._meta.get_field(field), "max_length", None)
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{field} has no max_length")
    return length
