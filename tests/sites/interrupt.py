"""What a site does to the crawler it serves when a given request arrives (with `Site.when`)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable


def kill_group(process: subprocess.Popen, first: Callable[[], object] = lambda: None) -> Callable[[], bool]:
    """An act for `Site.when`: run first() (e.g. wait for a row to commit), then SIGKILL the
    process's group (it was started with start_new_session) and drop the request unanswered."""

    def act() -> bool:
        first()
        os.killpg(process.pid, signal.SIGKILL)
        return True

    return act
