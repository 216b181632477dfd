"""The largest whole number a user may enter into an integer column, the same on every database.

A ``PositiveIntegerField`` is PostgreSQL's 32-bit ``integer``; SQLite would store up to
2**63 - 1, so the smaller range is the one both hold. Forms (``max_value``), API schemas
(``le``) and services check against this one constant, so an out-of-range number is a clear
refusal, never a database error (a 500).
"""

from __future__ import annotations

#: The largest value of a ``PositiveIntegerField`` column (PostgreSQL ``integer``): 2**31 - 1.
POSITIVE_INTEGER_MAX = 2_147_483_647
