"""Shared fixtures: the demo archive, built once per session through the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_clippings(*args: str, cwd: Path = PROJECT_ROOT, timeout: int = 600):
    """Run the real `clippings` command line in a subprocess; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "clippings", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive built by `clippings demo --no-serve`: spiders, pipelines and all."""
    db = tmp_path_factory.mktemp("demo") / "archive.db"
    result = run_clippings("demo", "--no-serve", "--db", str(db))
    assert result.returncode == 0, result.stdout + result.stderr
    return db
