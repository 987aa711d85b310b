"""The `clippings` command line: demo, crawl, serve, upgrade, release, rehydrate, takedown, import, reextract,
coverage, compact, extract."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import yaml

from pipelines.core.bundled import DEFAULT_TOPIC, TOPIC_TEMPLATE
from pipelines.core.topic import TopicError, load_topic
from pipelines.store.compaction import BATCH as COMPACTION_BATCH

DEFAULT_SPIDERS = ("feeds", "sitemaps", "seeds")
# The demo press site is on loopback and ours: no need to wait between requests, and
# the fetch guard must let the crawl reach 127.0.0.1.
DEMO_SETTINGS = {
    "ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/32",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
}


@click.group()
@click.version_option(package_name="clippings")
def main() -> None:
    """Build research archives of press coverage: crawl, extract, relate to a topic, publish."""


def db_option(function):
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("archive.db"),
        show_default=True,
        help="The SQLite archive.",
    )(function)


def overrides_option(function):
    return click.option(
        "-s",
        "--set",
        "overrides",
        multiple=True,
        metavar="NAME=VALUE",
        help="Override a setting of crawlers/settings.py or Scrapy (repeatable).",
    )(function)


# --- crawl --------------------------------------------------------------


@main.command()
@click.argument("spiders", nargs=-1)
@click.option(
    "--topic",
    "topic_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_TOPIC,
    show_default="the bundled topics/metoo.yml",
    help="Topic file: window, keywords, people, outlets.",
)
@click.option(
    "--urls",
    "urls_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File of URLs, one per line, for the seeds spider; limits the crawl to their hosts. "
    "For wayback and commoncrawl: URL patterns (a host, or a prefix ending in *).",
)
@db_option
@overrides_option
def crawl(spiders: tuple[str, ...], topic_path: Path, urls_path: Path | None, db: Path, overrides: tuple[str, ...]) -> None:
    """Run SPIDERS (default: feeds, sitemaps, seeds; with --urls: seeds) into the archive."""
    settings = _checked_overrides(overrides)
    _check_networks(settings.get("ALLOWED_PRIVATE_NETWORKS", ""))
    names = spiders or (("seeds",) if urls_path else DEFAULT_SPIDERS)
    run_crawl(names, topic_path, db, urls_path, settings)
    print_summary(db)


def _parse_override(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="-s")
    return name.strip(), value


def _project_settings(overrides: tuple[str, ...] | dict[str, str]):
    """The one loader (crawlers.addons.project_settings): one sentence and exit 1 for an
    unknown setting name or a research threshold that is not a usable number."""
    from crawlers.addons import project_settings
    from pipelines.core.thresholds import SettingError, Thresholds

    given = overrides if isinstance(overrides, dict) else dict(_parse_override(o) for o in overrides)
    try:
        settings = project_settings(given)
        Thresholds.from_settings(settings)
    except SettingError as error:
        raise click.ClickException(str(error)) from None
    return settings


def _checked_overrides(overrides: tuple[str, ...]) -> dict[str, str]:
    """The -s overrides for a command that passes them on to `scrapy crawl`, checked first."""
    given = dict(_parse_override(o) for o in overrides)
    _project_settings(given)
    return given


def run_crawl(names, topic_path: Path, db: Path, urls_path: Path | None = None, settings: dict | None = None) -> None:
    """Check the inputs, then run each spider as a real `scrapy crawl`, one after the other.

    Each spider keeps its job state beside the archive while it runs (crawlers/jobstate.py):
    after a crash, the same command resumes it."""
    from crawlers.jobstate import job_state_path

    topic = _check_topic(topic_path)
    _check_archive(db)
    _check_spiders(names)
    if urls_path and not urls_path.is_file():
        raise click.ClickException(f"cannot read the URL file {urls_path}")
    log_path = db.with_suffix(".crawl.log")
    for name in names:
        job_path = job_state_path(db.resolve(), name, topic.name)
        _run_spider(name, topic_path, db, log_path, urls_path, {"JOB_STATE_PATH": job_path, **(settings or {})})


def _run_spider(name: str, topic_path: Path, db: Path, log_path: Path, urls_path: Path | None, settings: dict) -> None:
    from crawlers.commands.crawl import EXIT_BUSY, EXIT_SETTINGS, EXIT_STOPPED

    errors_before = _count_errors(log_path)
    command = [sys.executable, "-m", "scrapy", "crawl", name]
    fixed = {
        "ARCHIVE_PATH": db.resolve(),
        "TOPIC_PATH": topic_path.resolve(),
        "PROGRESS_DISPLAY": "True",
        "LOG_FILE": log_path.resolve(),
        "LOG_FILE_APPEND": "True",
    }
    for key, value in {**fixed, **settings}.items():
        command += ["-s", f"{key}={value}"]
    if urls_path:
        command += ["-a", f"urls={urls_path.resolve()}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawlers.settings"}
    result = subprocess.run(command, env=env)
    if result.returncode in (EXIT_STOPPED, EXIT_BUSY, EXIT_SETTINGS):
        raise click.exceptions.Exit(result.returncode)  # `scrapy crawl` has said why, in one sentence
    if result.returncode != 0:
        raise click.ClickException(f"the {name} spider failed (exit {result.returncode}); see {log_path}")
    new_errors = _count_errors(log_path) - errors_before
    if new_errors:
        click.echo(f"warning: the {name} spider logged {new_errors} error(s); see {log_path}", err=True)


def _count_errors(log_path: Path) -> int:
    if not log_path.exists():
        return 0
    with log_path.open(encoding="utf-8", errors="replace") as log:
        return sum(1 for line in log if "] ERROR: " in line or " CRITICAL: " in line)


def _check_topic(topic_path: Path):
    try:
        return load_topic(topic_path)
    except TopicError as error:
        raise click.ClickException(str(error)) from None


def _check_networks(value: str) -> None:
    import ipaddress

    for cidr in filter(None, (part.strip() for part in value.split(","))):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise click.ClickException(
                f"ALLOWED_PRIVATE_NETWORKS: {cidr!r} is not a network; write CIDRs such as 127.0.0.1/32,10.0.0.0/8"
            ) from None


def _open_archive(db: Path, create: bool = False, read_only: bool = False, **options):
    """The archive, or one clear sentence and exit 1 when it cannot be used. `read_only`: for
    commands that only read, which never change the file and work on read-only storage."""
    from pipelines.store.archive import Archive, ArchiveError

    try:
        return Archive(db, create=create, read_only=read_only, **options)
    except ArchiveError as error:
        raise click.ClickException(str(error)) from None


def _check_archive(db: Path, create: bool = True) -> None:
    _open_archive(db, create).close()


def _check_spiders(names) -> None:
    from scrapy.spiderloader import SpiderLoader

    from crawlers.addons import project_settings

    known = set(SpiderLoader.from_settings(project_settings()).list())
    for name in names:
        if name not in known:
            raise click.ClickException(f"unknown spider {name!r}; the spiders are: {', '.join(sorted(known))}")


def print_summary(db: Path) -> None:
    from pipelines.store.archive import Archive

    archive = Archive(db)
    counts = {t: archive.count(t) for t in ("articles", "copies", "captures", "rejects", "fetch_failures")}
    archive.close()
    click.echo(
        f"{db}: {counts['articles']} articles, {counts['copies']} linked copies, {counts['captures']} captures, "
        f"{counts['rejects']} rejects, {counts['fetch_failures']} fetch failures"
    )


# --- demo ----------------------------------------------------------------


@main.command()
@db_option
@click.option("--no-serve", is_flag=True, help="Build the archive, do not start Datasette.")
@click.option("--port", type=int, default=8001, show_default=True)
@click.option(
    "--site-port",
    type=int,
    default=8101,
    show_default=True,
    help="First port of the demo press site (one per outlet); the same ports keep re-runs idempotent.",
)
@overrides_option
def demo(db: Path, no_serve: bool, port: int, site_port: int, overrides: tuple[str, ...]) -> None:
    """Crawl the bundled demo press site (on loopback) into an archive, then serve it."""
    from clippings.demo import DemoSite

    settings = {**DEMO_SETTINGS, **_checked_overrides(overrides)}
    site = DemoSite(base_port=site_port)
    try:
        site.start()
    except OSError as error:
        raise click.ClickException(
            f"cannot start the demo site on ports {site_port}+: {error.strerror}; try --site-port"
        ) from None
    try:
        with tempfile.TemporaryDirectory() as scratch:
            topic_path = Path(scratch) / "demo-topic.yml"
            topic_path.write_text(demo_topic(site.outlets), encoding="utf-8")
            click.echo(f"Demo press site: {', '.join(o['name'] + ' ' + o['homepage'] for o in site.outlets)}")
            run_crawl(DEFAULT_SPIDERS, topic_path, db, settings=settings)
    finally:
        site.stop()
    print_summary(db)
    if not no_serve:
        serve_archive(db, port)


def demo_topic(outlets: list[dict]) -> str:
    """The default topic, with the demo site's outlets in place of the real ones."""
    raw = yaml.safe_load(DEFAULT_TOPIC.read_text(encoding="utf-8"))
    raw["outlets"] = outlets
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


# --- topic files -----------------------------------------------------------


@main.group()
def topic() -> None:
    """Topic files: start one from a commented template, check one."""


@topic.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def topic_init(path: Path, force: bool) -> None:
    """Write a commented topic template to PATH (window, keywords, people, outlets with feeds and sitemaps)."""
    try:
        with path.open("wb" if force else "xb") as out:  # x: never over a file that appeared meanwhile
            out.write(TOPIC_TEMPLATE.read_bytes())
    except FileExistsError:
        raise click.ClickException(f"{path} already exists; choose another name, or add --force to overwrite it") from None
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror}") from None
    click.echo(f"Wrote a topic template to {path}: replace its example values, then run `clippings topic check {path}`.")


@topic.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def topic_check(path: Path) -> None:
    """Validate the topic file PATH: one sentence per problem, exit 1 if there is any."""
    try:
        found = load_topic(path)
    except TopicError as error:
        for problem in error.problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    listed = {kind: sum(len(getattr(o, kind)) for o in found.outlets) for kind in ("feeds", "sitemaps", "seeds")}
    click.echo(
        f"{path}: topic {found.name!r}, {found.start}..{found.end}, {len(found.keywords)} keywords, "
        f"{len(found.people)} people, {len(found.outlets)} outlets ({listed['feeds']} feeds, "
        f"{listed['sitemaps']} sitemaps, {listed['seeds']} seeds): OK"
    )


# --- serve ---------------------------------------------------------------


@main.command()
@db_option
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--immutable", is_flag=True, help="For release files, which nothing writes to: Datasette's immutable mode.")
@click.option(
    "--sql-memory-mb",
    type=click.IntRange(min=0),
    default=None,
    help="Memory bound for SQL, in MB: SQLite may hold this much, one query's rows a sixteenth (0: none). [default: 256]",
)
def serve(db: Path, port: int, immutable: bool, sql_memory_mb: int | None) -> None:
    """Serve the archive with Datasette and the project's metadata.yml; the file is only read."""
    archive = _open_archive(db, read_only=True)
    archive.close()
    if archive.immutable and not immutable:
        click.echo(f"{db} is on read-only storage, where nothing can change it: serving it immutable (-i)", err=True)
    serve_archive(db, port, immutable or archive.immutable, sql_memory_mb)


def serve_archive(db: Path, port: int, immutable: bool = False, sql_memory_mb: int | None = None) -> None:
    """Datasette in this process (its own CLI), so a signal that stops us stops it too."""
    from datasette.cli import cli as datasette_cli

    from clippings.browse.memory import SETTING
    from clippings.publish import datasette_arguments, write_metadata

    plugin_config = {SETTING: sql_memory_mb} if sql_memory_mb is not None else None
    with tempfile.TemporaryDirectory() as scratch:
        metadata = write_metadata(db, Path(scratch) / "metadata.json", plugin_config)
        click.echo(f"Serving {db} at http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        arguments = datasette_arguments(db, port, metadata, immutable)
        datasette_cli.main(args=arguments, prog_name="datasette", standalone_mode=False)


@main.command()
@db_option
def upgrade(db: Path) -> None:
    """Bring an archive written by an older clippings up to this one's schema (writes to it)."""
    from pipelines.store.schema import SCHEMA_VERSION

    _open_archive(db).close()
    click.echo(f"{db}: archive schema {SCHEMA_VERSION}, up to date")


# --- releases ------------------------------------------------------------


@main.command()
@click.option("--full", "kind", flag_value="full", help="Everything, raw captures and texts included: private use.")
@click.option(
    "--public",
    "kind",
    flag_value="public",
    help="Metadata, URLs, hashes, counts, mentions: no article text (unless --snippets), no raw pages.",
)
@db_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The release file (SQLite) to write.")
@click.option(
    "--datapackage",
    "package",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write the release to as a Frictionless Data Package (CSV per table, "
    "datapackage.json, README.md, CITATION.cff).",
)
@click.option(
    "--snippets",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Public releases: up to N keyword-in-context passages per article, together at most 10% of its words.",
)
@click.option("--author", "authors", multiple=True, metavar="NAME", help="An author of the data package, for CITATION.cff.")
def release(kind: str | None, db: Path, out: Path | None, package: Path | None, snippets: int, authors: tuple[str, ...]) -> None:
    """Write a release of the archive: --full (private) or --public (may be published), to --out FILE,
    --datapackage DIR or both. Written under a temporary name and moved into place when complete."""
    from clippings.datapackage import PackageError, refuse_existing, write_datapackage, write_datapackage_release
    from clippings.release import ReleaseError, write_release
    from pipelines.store.archive import ArchiveError

    if kind is None:
        raise click.UsageError("say --full or --public")
    if out is None and package is None:
        raise click.UsageError("say where: --out FILE, --datapackage DIR, or both")
    public = kind == "public"
    try:
        with _terminate_interrupts():
            if package is not None:
                refuse_existing(package)
            if out is not None:
                summary = write_release(db, out, public, snippets)
                if package is not None:
                    write_datapackage(out, package, authors)
            else:
                summary = write_datapackage_release(db, package, public, snippets, authors)
    except (ReleaseError, PackageError, ArchiveError) as error:
        raise click.ClickException(str(error)) from None
    written = " and ".join(str(p) for p in (out, package) if p is not None)
    click.echo(f"{written}: {kind} release of {summary['articles']} articles")


@contextlib.contextmanager
def _terminate_interrupts():
    """A `kill` (SIGTERM) stops us the way Ctrl-C does, so the partial outputs are removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@main.command()
@click.argument("release_file", type=click.Path(exists=True, path_type=Path), metavar="RELEASE")
@click.option("--no-wayback", is_flag=True, help="Only the live pages; do not fall back to the Wayback Machine.")
@overrides_option
def rehydrate(release_file: Path, no_wayback: bool, overrides: tuple[str, ...]) -> None:
    """Restore the texts of a public release (a release file, or a data package folder) by fetching each URL
    again (live, else the Wayback Machine)."""
    from clippings.datapackage import PackageError, apply_rehydration, package_folder, rehydration_file
    from pipelines.store.archive import write_refusal

    settings = {"REHYDRATE_FROM_WAYBACK": str(not no_wayback), **_checked_overrides(overrides)}
    folder = package_folder(release_file)
    if folder is None:
        if release_file.is_dir():
            raise click.ClickException(
                f"{release_file} is a folder without a datapackage.json; give a release file or a data package"
            )
        _open_archive(release_file, read_only=True).close()
        if refusal := write_refusal(release_file):  # the texts are written into the release file
            raise click.ClickException(refusal)
        _run_rehydration(release_file, release_file.with_suffix(".rehydrate.log"), settings)
        print_rehydration(release_file, release_file)
        return
    try:
        with rehydration_file(folder) as scratch:
            _run_rehydration(scratch, folder / "rehydrate.log", settings)
            apply_rehydration(folder, scratch)
            print_rehydration(scratch, folder)
    except (PackageError, OSError) as error:
        raise click.ClickException(f"cannot rehydrate the data package {folder}: {error}") from None


def _run_rehydration(release_file: Path, log_path: Path, settings: dict) -> None:
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "rehydrate",
        "-s",
        f"LOG_FILE={log_path.resolve()}",
        "-s",
        f"RELEASE_PATH={release_file.resolve()}",
    ]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    result = subprocess.run(command, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "crawlers.settings"})
    if result.returncode != 0:
        raise click.ClickException(f"rehydration failed (exit {result.returncode}); see {log_path}")


def print_rehydration(release_file: Path, name: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(release_file)
    try:
        counts = dict(conn.execute("SELECT status, count(*) FROM rehydrations GROUP BY status").fetchall())
        lost = conn.execute("SELECT url, status, detail FROM rehydrations WHERE status != 'restored' ORDER BY url").fetchall()
    finally:
        conn.close()
    click.echo(
        f"{name}: {counts.get('restored', 0)} restored, {counts.get('changed', 0)} changed, {counts.get('failed', 0)} failed"
    )
    for url, status, detail in lost:
        click.echo(f"  {status}: {url} ({detail})")


# --- takedown ------------------------------------------------------------


@main.group()
def takedown() -> None:
    """Takedown requests: URL patterns removed from the archive and never captured again."""


@takedown.command("add")
@click.argument("pattern")
@click.option("--reason", required=True, help="Why (who asked, on what grounds); kept in the takedowns table.")
@click.option(
    "--date",
    "requested_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="When the takedown was requested, YYYY-MM-DD (default: today).",
)
@db_option
def takedown_add(pattern: str, reason: str, requested_on, db: Path) -> None:
    """Remove every record at URLs matching PATTERN ("*" matches any characters) and keep them out."""
    import datetime as dt

    from pipelines.core.takedowns import BadPattern, check_pattern
    from pipelines.store.archive import ArchiveError

    try:
        pattern = check_pattern(pattern)
    except BadPattern as error:
        raise click.ClickException(str(error)) from None
    archive = _open_archive(db)
    day = (requested_on or dt.datetime.now(dt.timezone.utc)).date().isoformat()
    try:
        removed = archive.add_takedown(pattern, reason.strip(), day)
    except ArchiveError as error:
        raise click.ClickException(str(error)) from None
    finally:
        archive.close()
    counts = ", ".join(f"{n} {table}" for table, n in removed.items() if n) or "nothing yet"
    click.echo(f"Takedown of {pattern} recorded; removed {counts}.")


@takedown.command("apply")
@db_option
def takedown_apply(db: Path) -> None:
    """Remove again whatever the listed takedowns cover (after a crawl that ran during `takedown add`)."""
    archive = _open_archive(db)
    removed = archive.apply_takedowns()
    archive.close()
    counts = ", ".join(f"{n} {table}" for table, n in removed.items() if n) or "nothing"
    click.echo(f"Takedowns applied; removed {counts}.")


@takedown.command("list")
@db_option
def takedown_list(db: Path) -> None:
    """The archive's takedowns, one per line: date, pattern, reason, records removed."""
    archive = _open_archive(db, read_only=True)
    for row in archive.takedown_list():
        click.echo("\t".join(str(value) for value in row))
    archive.close()


# --- import and reextract -------------------------------------------------


def topic_option(function):
    return click.option(
        "--topic",
        "topic_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=DEFAULT_TOPIC,
        show_default="the bundled topics/metoo.yml",
        help="Topic file: window, keywords, people, outlets.",
    )(function)


def scale_options(function):
    function = click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="A Dask scheduler (tcp://host:8786): analyse pages on its workers instead of local processes.",
    )(function)
    return click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=None,
        help="Local worker processes (default: the EXTRACTION_WORKERS setting, one per CPU; 0 analyses in this process).",
    )(function)


def _pool(workers: int, scheduler: str | None, topic, thresholds):
    """The extraction pool (pipelines/workers/pool.py), started, with the topic and thresholds
    every worker gets once."""
    from pipelines.workers.pool import ExtractionPool, analysis_arguments

    try:
        pool = ExtractionPool(workers, shared=analysis_arguments(topic, thresholds), scheduler=scheduler)
    except ValueError as error:  # a negative EXTRACTION_WORKERS
        raise click.ClickException(str(error)) from None
    try:
        pool.start()
    except (OSError, TimeoutError, ValueError) as error:
        pool.close()
        raise click.ClickException(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    return pool


class Interrupted(click.ClickException):
    exit_code = 130  # as a shell reports a command stopped by SIGINT


@main.command("import")
@click.argument("locations", nargs=-1, metavar="[PATH_OR_URL...]")
@topic_option
@db_option
@scale_options
@click.option(
    "--allow-network",
    "allowed",
    multiple=True,
    metavar="CIDR",
    help="Let downloads reach this private or loopback network (e.g. 127.0.0.1/32).",
)
@click.option("--no-prefilter", is_flag=True, help="Analyse every HTML page, not only those naming a keyword or person.")
@click.option(
    "--cc-news",
    is_flag=True,
    help="Import the CC-NEWS files (Common Crawl's news crawl) whose capture started from --from to --to; "
    "files an earlier run read to their end with the same topic are not fetched again.",
)
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="With --cc-news: the first day (default: the topic window's start).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="With --cc-news: the last day (default: the window's end plus ARCHIVE_CAPTURE_MARGIN_DAYS).",
)
@overrides_option
def import_command(
    locations: tuple[str, ...],
    topic_path: Path,
    db: Path,
    workers: int | None,
    scheduler: str | None,
    allowed: tuple[str, ...],
    no_prefilter: bool,
    cc_news: bool,
    start,
    end,
    overrides: tuple[str, ...],
) -> None:
    """Import pages from WARC, WARC.gz or WACZ files (paths or http(s) URLs), or CC-NEWS (--cc-news),
    through the crawl's pipelines."""
    from pipelines.core.thresholds import SettingError

    if cc_news == bool(locations):
        raise click.UsageError("give PATH_OR_URL... or --cc-news (one of the two)")
    if (start or end) and not cc_news:
        raise click.UsageError("--from and --to go with --cc-news")
    topic = _check_topic(topic_path)
    try:
        settings = _import_settings(overrides, allowed, no_prefilter)
    except SettingError as error:
        raise click.ClickException(str(error)) from None
    if cc_news:
        locations, listings_failed = cc_news_files(topic, settings, start, end)
    else:
        listings_failed = False
        _check_locations(locations, settings)
    summary = _run_import(list(locations), topic, db, workers, scheduler, settings, skip_read=cc_news)
    print_import(summary)
    print_summary(db)
    if summary.has_errors:
        raise click.ClickException(
            f"some records could not be imported; see the problems above and the import_files table (run {summary.run_id})"
        )
    if listings_failed:
        raise click.ClickException("some CC-NEWS listings could not be read (see above); run the same command again later")


def _import_settings(overrides: tuple[str, ...], allowed: tuple[str, ...], no_prefilter: bool):
    from crawlers.addons import recorded_settings
    from pipelines.jobs.imports import ImportSettings

    settings = _project_settings(overrides)
    _check_networks(",".join([*settings.getlist("ALLOWED_PRIVATE_NETWORKS"), *allowed]))
    return ImportSettings.from_settings(
        settings, prefilter=not no_prefilter, allowed=allowed, recorded=recorded_settings(settings)
    )


def _check_locations(locations, settings) -> None:
    from pipelines.sources.downloads import DownloadError, check_url
    from pipelines.sources.warcs import ArchiveFileError

    for location in locations:
        try:
            check_location(location, settings.policy, check_url)
        except (ArchiveFileError, DownloadError) as error:
            raise click.ClickException(str(error)) from None


def _run_import(locations: list[str], topic, db: Path, workers, scheduler, settings, skip_read: bool):
    import sqlite3

    from pipelines.jobs.imports import import_archives

    archive = _open_archive(db, create=True)
    pool = _pool(settings.workers if workers is None else workers, scheduler, topic, settings.thresholds)
    try:
        return import_archives(locations, archive, topic, pool, settings, skip_read=skip_read)
    except KeyboardInterrupt:
        raise Interrupted(
            "interrupted; what was stored is kept, and the import_files table says how far each "
            "file got: run the same command again to go on"
        ) from None
    except sqlite3.OperationalError as error:
        raise click.ClickException(f"cannot write to {db} ({error}); what was stored before is kept") from None
    finally:
        pool.close()
        archive.close()


def cc_news_files(topic, settings, start, end) -> tuple[list[str], bool]:
    """The CC-NEWS files of the range (by default the topic's window and its capture margin),
    with each month's listing reported; and whether a listing could not be read."""
    import datetime as dt
    import io

    from pipelines.sources.ccnews import LISTING_DOWNLOAD_MAX, listings
    from pipelines.sources.downloads import DownloadLimits, download

    first = start.date() if start else topic.start
    last = end.date() if end else topic.end + dt.timedelta(days=settings.capture_margin_days)
    if last < first:
        raise click.UsageError(f"--to ({last}) is before --from ({first})")
    _check_locations([settings.commoncrawl_data_url], settings)

    def fetch(url: str) -> bytes:
        out = io.BytesIO()
        download(url, out, settings.policy, settings.user_agent, DownloadLimits(settings.download.timeout, LISTING_DOWNLOAD_MAX))
        return out.getvalue()

    found = listings(settings.commoncrawl_data_url, first, last, fetch)
    for month in found:
        state = f"{len(month.files)} files in range" if month.problem is None else month.problem
        click.echo(f"CC-NEWS {month.month}: {state}", err=month.problem is not None)
    files = [url for month in found for url in month.files]
    click.echo(f"CC-NEWS {first}..{last}: {len(files)} files to import")
    return files, any(month.problem and not month.missing for month in found)


@main.command()
@db_option
@click.option(
    "--topic",
    "topic_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Topic file to judge relevance by (default: the one the archive was last built with).",
)
@scale_options
@overrides_option
def reextract(db: Path, topic_path: Path | None, workers: int | None, scheduler: str | None, overrides: tuple[str, ...]) -> None:
    """Extract every stored capture again (nothing is fetched) and update the articles that change."""
    from crawlers.addons import recorded_settings
    from pipelines.core.thresholds import Thresholds
    from pipelines.jobs.reextraction import reextract as reextract_archive

    settings = _project_settings(overrides)
    thresholds = Thresholds.from_settings(settings)  # checked by _project_settings
    archive = _open_archive(db)
    topic = _check_topic(topic_path) if topic_path else _archive_topic(archive)
    pool = _pool(settings.getint("EXTRACTION_WORKERS") if workers is None else workers, scheduler, topic, thresholds)
    try:
        summary = reextract_archive(archive, topic, pool, thresholds, recorded_settings(settings))
    finally:
        pool.close()
        archive.close()
    print_reextraction(summary)
    print_summary(db)
    if summary.changes["errors"]:
        raise click.ClickException(f"{summary.changes['errors']} capture(s) could not be extracted; see above")


def _archive_topic(archive):
    """The topic the archive was last built with, as stored in its topics table."""
    import dataclasses
    import hashlib

    from pipelines.core.topic import parse_topic, read_yaml

    text = archive.latest_topic_yaml()
    if text is None:
        return _check_topic(DEFAULT_TOPIC)
    try:
        topic = parse_topic(read_yaml(text, "the archive's topic"), source="the archive's topic")
    except TopicError as error:
        raise click.ClickException(f"{error}; give one with --topic") from None
    return dataclasses.replace(topic, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


# The summary's kinds of change, in the order they are printed: what entered or left the
# archive first, then what changed in place, then what did not change.
REEXTRACTION_KINDS = (
    "articles_added",
    "copies_added",
    "withdrawn",
    "copies_withdrawn",
    "text_changed",
    "dates_changed",
    "metadata_changed",
    "relevance_changed",
    "extractor_changed",
    "copies_updated",
    "conflicts",
    "errors",
    "unchanged",
    "still_rejected",
)


def print_reextraction(summary) -> None:
    changes = summary.changes
    if not changes:
        click.echo("No captures to extract.")
    kinds = sorted(changes, key=lambda kind: (REEXTRACTION_KINDS + (kind,)).index(kind))
    click.echo("Re-extraction: " + ", ".join(f"{changes[kind]} {kind.replace('_', ' ')}" for kind in kinds))
    click.echo(
        f"Articles: {summary.articles_before} before, {summary.articles_after} after "
        f"({changes['articles_added']} added, {changes['withdrawn']} withdrawn, "
        f"{changes['text_changed']} with a new text)."
    )
    for kind in kinds:
        for example in summary.examples.get(kind, []):
            click.echo(f"  {kind.replace('_', ' ')}: {example}")


@main.command()
@db_option
@click.option("--outlet", help="Only this outlet (its id).")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (default: the topic window's).")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day (default: the topic window's).")
def coverage(db: Path, outlet: str | None, start, end) -> None:
    """Articles per outlet per day, by the sources that saw them (live, wayback, commoncrawl, warc), and the gaps."""
    from pipelines.store.coverage import SOURCES
    from pipelines.store.coverage import coverage as archive_coverage

    archive = _open_archive(db, read_only=True)
    try:
        topic = _archive_topic(archive)
        outlets = archive_coverage(archive, outlet)
        names = archive.outlet_names()
    finally:
        archive.close()
    first, last = (start.date() if start else topic.start), (end.date() if end else topic.end)
    if not outlets:
        click.echo(f"No dated articles{f' from {outlet}' if outlet else ''} in {db}.")
    for found in outlets:
        click.echo(f"{found.outlet_id or '(no outlet)'} ({names.get(found.outlet_id, 'not in the topic')})")
        click.echo(f"  {'day':<10}  {'all':>5}" + "".join(f"  {s:>11}" for s in SOURCES))
        for day in sorted(d for d in found.days if first.isoformat() <= d <= last.isoformat()):
            seen = found.days[day]
            click.echo(f"  {day:<10}  {found.totals.get(day, 0):>5}" + "".join(f"  {seen.get(s, 0):>11}" for s in SOURCES))
        gaps = found.gaps(first, last)
        days = sum((b - a).days + 1 for a, b in gaps)
        runs = ", ".join(a.isoformat() if a == b else f"{a}..{b}" for a, b in gaps) or "none"
        click.echo(f"  days without any article {first}..{last}: {days} ({runs})")


def check_location(location: str, policy, check_url) -> None:
    """Fail early, before a run starts, on a path that is not there or a URL that is refused."""
    from pipelines.sources.warcs import ArchiveFileError

    if location.startswith(("http://", "https://")):
        check_url(location, policy)
    elif "://" in location:
        raise ArchiveFileError(f"{location}: only local paths and http(s) URLs can be imported")
    elif not Path(location).is_file():
        raise ArchiveFileError(f"{location}: no such file")


SKIP_NAMES = {
    "skipped_not_response": "not responses",
    "skipped_revisit": "revisits",
    "skipped_status": "not status 200",
    "skipped_not_html": "not HTML",
    "skipped_too_large": "too large",
}


def print_import(summary) -> None:
    skipped = ("skipped_not_response", "skipped_revisit", "skipped_status", "skipped_not_html", "skipped_too_large")
    for report in summary.files:
        counts = report.counts
        click.echo(
            f"{report.location}: {counts['records']} records, {counts['pages']} pages analysed, "
            f"{counts['prefiltered_out']} prefiltered out, {sum(counts[k] for k in skipped)} skipped "
            f"({', '.join(f'{counts[k]} {SKIP_NAMES[k]}' for k in skipped)}); "
            f"{counts['articles_added']} articles added, {counts['copies_added']} copies, "
            f"{counts['versions_added']} new versions, {counts['articles_unchanged']} already archived, {counts['rejects']} rejects, "
            f"{counts['takedowns_skipped']} taken down, {counts['damaged']} damaged, {counts['errors']} errors"
        )
        for problem in report.problems:
            member = f" {problem['member']}" if problem["member"] else ""
            offset = f" at byte {problem['offset']}" if problem["offset"] is not None else ""
            click.echo(f"  problem{member}{offset}: {problem['error']}")
        if unlisted := counts["damaged"] + counts["errors"] - len(report.problems):
            click.echo(f"  and {unlisted} more problems, not listed")
    for location in summary.skipped:
        click.echo(f"{location}: read to its end by an earlier run with this topic; not fetched again")


# --- compact -------------------------------------------------------------


@main.command()
@db_option
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=COMPACTION_BATCH,
    show_default=True,
    help="Bodies recompressed per transaction.",
)
@overrides_option
def compact(db: Path, batch: int, overrides: tuple[str, ...]) -> None:
    """Train per-outlet compression dictionaries and recompress the raw pages stored without one
    (settings: COMPRESSION_DICTIONARY_SAMPLES, COMPRESSION_DICTIONARY_SIZE).

    Safe to interrupt (each batch is one transaction) and to run while a crawl writes."""
    from pipelines.store.compaction import compact as compact_archive
    from pipelines.store.compression import DictionaryPolicy

    settings = _project_settings(overrides)
    try:
        policy = DictionaryPolicy(
            settings.getint("COMPRESSION_DICTIONARY_SAMPLES"), settings.getint("COMPRESSION_DICTIONARY_SIZE")
        )
    except ValueError:
        raise click.ClickException("COMPRESSION_DICTIONARY_SAMPLES and COMPRESSION_DICTIONARY_SIZE take whole numbers") from None
    archive = _open_archive(db, dictionaries=policy)
    try:
        result = compact_archive(archive, batch, progress=_print_compaction)
    finally:
        archive.close()
    trained = ", ".join(result.dictionaries_trained) or "none"
    click.echo(f"Dictionaries trained for: {trained}; {result.bodies_recompressed} bodies recompressed.")
    ratio = result.bytes_after / result.bytes_before if result.bytes_before else 1.0
    click.echo(f"{db}: raw pages {result.bytes_before:,} -> {result.bytes_after:,} bytes ({ratio:.2f}x), dictionaries included.")


def _print_compaction(looked_at: int, recompressed: int) -> None:
    click.echo(f"{looked_at} bodies looked at, {recompressed} recompressed")


# --- extract -------------------------------------------------------------


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The URL the page was fetched from (helps dating and metadata).")
@click.option("--manifest", type=click.File(encoding="utf-8"), help='JSON Lines file, one {"path": ..., "url": ...} per page.')
@click.option(
    "--min-words",
    type=int,
    default=0,
    show_default=True,
    help="Report pages with fewer words as not articles (the crawl uses MIN_ARTICLE_WORDS).",
)
@click.option(
    "--topic",
    "topic_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Topic file: the time zone of the outlet serving each page's URL dates it.",
)
@click.option(
    "--timezone",
    "zone_name",
    metavar="ZONE",
    help="The outlet's time zone (IANA name, e.g. Europe/Paris), for pages the topic gives none.",
)
@overrides_option
def extract(
    files: tuple[Path, ...],
    url: str | None,
    manifest,
    min_words: int,
    topic_path: Path | None,
    zone_name: str | None,
    overrides: tuple[str, ...],
) -> None:
    """Extract text and metadata from saved HTML pages; prints one JSON object per page, in order.
    Texts under THIN_WORDS are flagged `thin`, as in the archive."""
    thin_words = _project_settings(overrides).getint("THIN_WORDS")
    jobs = [(path, url) for path in files]
    if manifest:
        jobs += list(_manifest_jobs(manifest))
    if not jobs:
        raise click.UsageError("give at least one FILE or --manifest")
    topic = _check_topic(topic_path) if topic_path else None
    default_zone = _time_zone(zone_name)
    for path, page_url in jobs:
        zone = (topic.time_zone_for(page_url) if topic and page_url else None) or default_zone
        click.echo(json.dumps(extract_file(path, page_url, min_words, zone, thin_words), ensure_ascii=False))


def _time_zone(name: str | None):
    """The ZoneInfo for --timezone; a usage error naming the option when the tz database has no such zone."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        raise click.BadParameter(
            f"{name!r} is not an IANA time zone name such as Europe/Paris", param_hint="--timezone"
        ) from None


def _manifest_jobs(manifest):
    for number, line in enumerate(manifest, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            yield Path(entry["path"]), entry.get("url")
        except (ValueError, KeyError, TypeError):
            raise click.ClickException(f'manifest line {number} is not a JSON object with a "path"') from None


def extract_file(path: Path, url: str | None, min_words: int = 0, time_zone=None, thin_words: int = 0) -> dict:
    """One page through the crawl's own extraction function, as a JSON-ready record.
    `time_zone`: the outlet's (a ZoneInfo), to read the page's time stamps on its clock;
    `thin_words`: fewer words are flagged `thin` (THIN_WORDS)."""
    from pipelines.core.extraction import NotAnArticle, extract_article

    record = {
        "source": str(path),
        "url": url,
        "title": None,
        "authors": [],
        "published": None,
        "published_day": None,
        "published_utc_day": None,
        "published_source": None,
        "date_trusted": False,
        "modified": None,
        "language": None,
        "sitename": None,
        "text": None,
        "text_flags": [],
    }
    try:
        article = extract_article(
            _read_page(path), url or path.resolve().as_uri(), min_words=min_words, time_zone=time_zone, thin_words=thin_words
        )
    except NotAnArticle as reason:
        return {**record, "error": str(reason)}
    except OSError as error:
        return {**record, "error": f"cannot read {path}: {error.strerror or error}"}
    return {
        **record,
        "title": article.title,
        "authors": article.authors,
        "published": article.published.value,
        "published_day": article.published.day,
        "published_utc_day": article.published.utc_day,
        "published_source": article.published.source,
        "date_trusted": article.published.trusted,
        "modified": article.published.modified,
        "language": article.language,
        "sitename": article.sitename,
        "text": article.text,
        "text_flags": article.text_flags,
    }


def _read_page(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


if __name__ == "__main__":
    main()
