"""A test hook for crash tests: stop a run at a named point so that a test can kill it there.

With EMPLOYMENT_EVAL_TEST_PAUSE_AT=<point> in the environment, a run reaching that point writes
its process id to the file named by EMPLOYMENT_EVAL_TEST_PAUSE_FILE (if set) and sleeps until it
is killed. Without the variable (always, outside tests) `pause_point` does nothing.

Points, in the order a run passes them (flows/nightly_refresh.py, publish.py):
  ingested   raw layer and manifest written, nothing built
  built      models built in the working database
  exporting  candidate file half-written (first table copied)
  audited    candidate checked, not yet renamed
  renaming   candidate synced to disk, just before the atomic rename
  published  renamed over the marts, run log not yet updated
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT = "EMPLOYMENT_EVAL_TEST_PAUSE_AT"
PAUSE_FILE = "EMPLOYMENT_EVAL_TEST_PAUSE_FILE"
POINTS = ("ingested", "built", "exporting", "audited", "renaming", "published")


def pause_point(name: str) -> None:
    if os.environ.get(PAUSE_AT) != name:
        return
    flag = os.environ.get(PAUSE_FILE)
    if flag:
        Path(flag).write_text(str(os.getpid()), encoding="utf-8")
    while True:  # until the test kills the process
        time.sleep(60)
