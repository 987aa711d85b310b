"""The layers (docs/layers.md): the import-linter contracts hold, the core loads no framework, and a
page's reject crosses into Scrapy only at the crawl's item pipelines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem

from crawlers.stages import RejectedPage, RespectPipeline
from pipelines.core.analysis import Rejected
from pipelines.core.items import FetchedPage

from .conftest import PROJECT_ROOT

FRAMEWORKS = ("scrapy", "twisted", "sqlite3", "sqlite_utils", "click", "datasette", "clippings", "crawlers")


def test_layers_contracts_are_kept():
    """lint-imports, as .ci/run runs it, over the contracts in pyproject.toml."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_layers_core_loads_no_framework_nor_layer_above():
    """Every core module imported in a fresh interpreter: no Scrapy, Twisted, SQLite, click or
    Datasette, not even indirectly, and nothing of the layers above."""
    script = (
        "import importlib, pkgutil, sys, pipelines.core\n"
        "for module in pkgutil.iter_modules(pipelines.core.__path__):\n"
        "    importlib.import_module('pipelines.core.' + module.name)\n"
        f"print(' '.join(name for name in {FRAMEWORKS!r} if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_layers_rejected_is_no_scrapy_exception():
    """import and reextract raise it: it owes nothing to Scrapy."""
    assert not issubclass(Rejected, DropItem)
    assert all(not cls.__module__.startswith("scrapy") for cls in Rejected.__mro__)


def test_layers_crawl_drops_a_reject_as_drop_item_with_its_stage():
    """The crawl's item pipelines turn Rejected into Scrapy's DropItem, which the rejects log reads."""
    page = FetchedPage(
        url="https://example.org/a",
        final_url="https://example.org/a",
        status=200,
        headers={"x-robots-tag": ["noarchive"]},
        body=b"<html></html>",
        fetched_at="2017-10-17T00:00:00+00:00",
        spider="seeds",
        crawl_run_id="run",
    )
    with pytest.raises(RejectedPage) as dropped:
        RespectPipeline().process_item(page)
    assert isinstance(dropped.value, DropItem)
    assert dropped.value.stage == "respect"
    assert dropped.value.reason.startswith("noarchive")
