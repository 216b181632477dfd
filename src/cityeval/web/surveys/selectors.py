"""Reads for the impact survey used by other apps."""

from __future__ import annotations

from cityeval.web.evaluations.models import Participation


def proposed_levels(participation: Participation) -> dict[str, float]:
    """The survey's proposed level per Impact item code (the survey mean of its statement),
    for the assessors' scoring pages. Empty until the region's survey has valid responses."""
    return {}
