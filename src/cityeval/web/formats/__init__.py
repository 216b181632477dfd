"""One date and number format per language (``FORMAT_MODULE_PATH``).

Django's locales have a long and a short date format; pages used both, so one page showed
``7 Des 2026, 9.30`` and the next ``07-12-2026 9.30``. Here the short formats are the long
ones, so every date in a language reads the same. Numbers keep Django's decimal mark (``,``
in Indonesian, ``.`` in English), which the ``score`` filter uses too.
"""
