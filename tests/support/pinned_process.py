"""Run a module (`python -m tests.support.pinned_process arq …`) with its clock at $DEALERDESK_TEST_NOW, ticking.

The test process and the processes it starts must agree on the time, including
arq's own timestamps, so the child travels with time-machine as the tests do.
"""

from __future__ import annotations

import os
import runpy
import sys
from datetime import datetime

import time_machine

from tests.support.clock import TEST_NOW_ENV


def main() -> None:
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    start = os.environ.get(TEST_NOW_ENV)
    if start:
        time_machine.travel(datetime.fromisoformat(start), tick=True).start()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
