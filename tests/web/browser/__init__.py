"""Browser tests: Chromium through Playwright against the live server (see conftest.py)."""
