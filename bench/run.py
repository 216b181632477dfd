"""Run every benchmark (`make bench`). Benchmarks print figures; they are not tests."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_scoring


def main() -> None:
    print(f"cityeval benchmarks — Python {platform.python_version()}, {platform.machine()}")
    print("\n[scoring] item-level scoring of a national cycle")
    bench_scoring.run()


if __name__ == "__main__":
    main()
