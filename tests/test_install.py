"""Installed like any Python tool: the files the commands read come with the package, so a wheel
works from any directory (demo, serve, topic files), not only from a checkout."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from pipelines.core.bundled import DEFAULT_TOPIC, METADATA_FILE

from .conftest import PROJECT_ROOT, free_port_block

# What a copy of the checkout to build from leaves out: environments, archives, build leftovers
# (a stale build/lib would put files into the wheel that the sources no longer have).
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "test-artifacts", "*.db", "*.db-*", "*.log"
)


def test_bundled_files_are_the_top_level_files():
    """clippings/data links to them: one copy, edited where the README says it is."""
    assert DEFAULT_TOPIC == PROJECT_ROOT / "topics" / "metoo.yml"
    assert METADATA_FILE == PROJECT_ROOT / "metadata.yml"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A clean virtualenv holding clippings from a wheel built from this checkout; its bin folder."""
    root = tmp_path_factory.mktemp("install")
    source, wheels, venv = root / "source", root / "wheels", root / "venv"
    shutil.copytree(PROJECT_ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)], cwd=root)
    (wheel,) = wheels.glob("clippings-*.whl")
    run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], cwd=root)
    return venv / "bin"


def run(command: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=clean_environment(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


def clean_environment() -> dict[str, str]:
    """This test run's environment without what points into the checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCRAPY_SETTINGS_MODULE", "VIRTUAL_ENV")}


@pytest.mark.slow
def test_wheel_runs_the_demo_from_an_empty_directory(installed, tmp_path):
    run([str(installed / "clippings"), "demo", "--no-serve", "--site-port", str(free_port_block())], cwd=tmp_path)
    conn = sqlite3.connect(tmp_path / "archive.db")
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    assert articles > 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.crawl.log", "archive.db"]


@pytest.mark.slow
def test_wheel_serves_an_archive_with_the_plugin_and_metadata(installed, tmp_path):
    run([str(installed / "clippings"), "demo", "--no-serve", "--site-port", str(free_port_block())], cwd=tmp_path)
    port = free_port_block(1)
    server = subprocess.Popen(
        [str(installed / "clippings"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = fetch_when_up(f"http://127.0.0.1:{port}/archive/articles", server)
        metadata = json.loads(fetch_when_up(f"http://127.0.0.1:{port}/-/metadata.json", server))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "coverage.js" in page  # the clippings Datasette plugin
    assert metadata["title"] == yaml.safe_load(METADATA_FILE.read_text(encoding="utf-8"))["title"]


def fetch_when_up(url: str, server: subprocess.Popen, attempts: int = 240) -> str:
    for _ in range(attempts):
        assert server.poll() is None, f"the server exited with {server.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read().decode("utf-8")
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer")


@pytest.mark.slow
def test_wheel_writes_and_checks_a_topic_template(installed, tmp_path):
    run([str(installed / "clippings"), "topic", "init", "story.yml"], cwd=tmp_path)
    checked = run([str(installed / "clippings"), "topic", "check", "story.yml"], cwd=tmp_path)
    assert checked.stdout.strip().endswith(": OK")
