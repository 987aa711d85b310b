"""`clippings serve` as a user runs it: a subprocess on a free loopback port, stopped afterwards."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT, SCRAPY_ENV, free_port_block

SERVER_START_SECONDS = 60


@contextmanager
def serving(db: Path, *options: str, prefix: list[str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`clippings serve --db DB OPTIONS` (after `prefix`, e.g. a namespace); yields the base URL
    and the process once it answers."""
    port = free_port_block(1)
    command = [*(prefix or []), sys.executable, "-m", "clippings", "serve", "--db", str(db), "--port", str(port), *options]
    # The server's output goes to a file: a pipe nobody reads blocks the server once the tracebacks
    # Datasette logs for refused queries fill it.
    log = tempfile.TemporaryFile(mode="w+")
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=SCRAPY_ENV, stdout=log, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(base_url, server, log)
        yield base_url, server
    finally:
        stop(server)
        log.close()


def wait_until_answering(base_url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        if server.poll() is not None:
            log.seek(0)
            pytest.fail(f"clippings serve exited with {server.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{base_url}/-/versions.json", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                pytest.fail(f"clippings serve did not answer within {SERVER_START_SECONDS}s")
            time.sleep(0.2)


def stop(process: subprocess.Popen, seconds: float = 10) -> None:
    """Terminate a server, and kill it if it has not exited after `seconds`."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
