"""One date format per language: the short and long formats Django offers are the same here,
so every date on every page reads alike (Indonesian ``7 Des 2026, 9.30``, English
``Dec. 7, 2026, 9:30 a.m.``); numbers use the language's decimal mark."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

DATES = Template(
    "{{ d|date:'SHORT_DATETIME_FORMAT' }}|{{ d|date:'DATETIME_FORMAT' }}|"
    "{{ d|date:'SHORT_DATE_FORMAT' }}|{{ d|date:'DATE_FORMAT' }}"
)
WHEN = datetime(2026, 12, 7, 9, 30)


@pytest.mark.parametrize(
    ("language", "datetime_text", "date_text"),
    [("id", "7 Des 2026, 9.30", "7 Des 2026"), ("en", "Dec. 7, 2026, 9:30 a.m.", "Dec. 7, 2026")],
)
def test_short_and_long_dates_read_the_same(language, datetime_text, date_text):
    with translation.override(language):
        assert DATES.render(Context({"d": WHEN})).split("|") == [datetime_text] * 2 + [date_text] * 2
