"""Run a command and report its peak resident size: ``python bench/peak.py COMMAND...``.

Prints ``{"peak_mib": …, "seconds": …}`` as the last line on stderr and exits with the
command's exit code. Benchmarks start the processes they measure through this small launcher
because Linux gives a child the high-water mark of the process it was forked from: a command
started directly from a benchmark that holds a national table in memory would report that
table's size as its own peak (``ru_maxrss`` of a child forked from a 500 MB process is at least
500 MB, whatever the child does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main(command: list[str]) -> int:
    start = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    sys.stderr.write("\n" + json.dumps({"peak_mib": usage.ru_maxrss / 1024, "seconds": seconds}) + "\n")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
