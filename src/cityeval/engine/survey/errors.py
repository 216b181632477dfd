"""Errors of the survey package."""

from __future__ import annotations

from cityeval.engine.errors import CityevalError

__all__ = ["XLSFormError"]


class XLSFormError(CityevalError):
    """An XLSForm did not convert or did not pass ODK Validate; the message is the tool's."""
