"""The results tests' cycle, regions and the hand-calculated numbers of tests/web/results/conftest.py."""

from __future__ import annotations

CYCLE = "gmsc-2024"
REGION_A = "kab-deli-serdang"
REGION_B = "kota-medan"
A_SCORES = (3.0, 3.0, 4.0, 4.0, 4.0)
B_SCORES = (2.0, 2.0, 3.0, 3.0, 3.0)
CONSOLIDATED_ITEM = "baseline.legal_basis"
A_FINAL = 0.1 * (2 + 4 * 3.6) / 5 + 0.9 * 3.6
B_FINAL = 2.6
A_2023 = {"baseline": 3.44, "output": 2.63, "outcome": 3.25, "impact": 3.12, "quick_win": 3.80}
A_2023_FINAL = 3.229
STRENGTHS = "Satu Data portal is used by every OPD"
