"""Run every benchmark (`make bench`): each bench_*.py module beside this file with a run().

Benchmarks print figures; they are not tests. `make bench ARGS=surveys` runs the modules whose
name contains "surveys"; words from the first ``--option`` on go to the selected modules' run()
(`make bench ARGS="scoring --regions 550,5500"`).
"""

from __future__ import annotations

import importlib
import inspect
import platform
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def main(argv: list[str]) -> None:
    first_option = next((i for i, word in enumerate(argv) if word.startswith("--")), len(argv))
    selected, options = argv[:first_option], argv[first_option:]
    print(f"cityeval benchmarks — Python {platform.python_version()}, {platform.machine()}")
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem
        if selected and not any(word in name for word in selected):
            continue
        module = importlib.import_module(name)
        title = (module.__doc__ or name).strip().splitlines()[0]
        print(f"\n[{name.removeprefix('bench_')}] {title}")
        if inspect.signature(module.run).parameters:
            module.run(options)
        else:
            module.run()


if __name__ == "__main__":
    main(sys.argv[1:])
