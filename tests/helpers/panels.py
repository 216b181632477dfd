"""The panel tests' cycle, stage, region and the items they score."""

from __future__ import annotations

from cityeval.web.evaluations.models import Stage

CYCLE = "gmsc-2024"
STAGE = Stage.Kind.STAGE_II.value
REGION_A = "kab-deli-serdang"
LEVEL_ITEM = "baseline.legal_basis"
THRESHOLD_ITEM = "outcome.realisation_governance"  # percent, thresholds 20/40/60/80 → 1/2/3/4
SURVEY_ITEM = "impact.service.1"
