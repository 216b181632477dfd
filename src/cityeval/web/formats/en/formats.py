"""English: ``Dec. 7, 2026``, ``Dec. 7, 2026, 9:30 a.m.``; decimal point (Django's default)."""

DATE_FORMAT = "N j, Y"
DATETIME_FORMAT = "N j, Y, P"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
