"""Helpers shared by several test modules: constants, builders of input files, URL and
client helpers. Tests import them from here, never from a ``conftest`` or another test module
(tests/test_habits.py keeps it so); fixtures stay in the ``conftest`` files."""
