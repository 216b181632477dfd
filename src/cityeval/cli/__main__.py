"""``python -m cityeval.cli``."""

import sys

from cityeval.cli import main

sys.exit(main())
