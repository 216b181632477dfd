"""Indonesian: ``7 Des 2026``, ``7 Des 2026, 9.30``; decimal comma (Django's default)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, G.i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
