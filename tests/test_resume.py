"""Crash and resume: `clippings crawl` killed with SIGKILL at several points ends, when run again, with
the archive an uninterrupted crawl builds."""

import signal
import sqlite3
import subprocess
import sys

import pytest

from .conftest import LOOPBACK, PROJECT_ROOT, SCRAPY_ENV, rows
from .sites import DAY, Answer, Site, article_html, html, kill_group, page, site_with_sitemap

# Every test here crawls a loopback site in a subprocess (and kills it): the full suite only.
pytestmark = pytest.mark.slow

ROUTES = {
    **{f"/{DAY}/story-{n}/": page(html(article_html(f"number {n}"))) for n in range(12)},
    # The same text, published later: a copy of story 0 whichever is fetched first.
    f"/{DAY}/wire-copy/": page(html(article_html("number 0", published="2017-10-18"))),
    f"/{DAY}/empty/": page(Answer(200, b"")),
    f"/{DAY}/gone/": page(Answer(410, b"gone")),
}
# Kill the crawl when the site receives its Nth request (of that run): robots.txt is the
# first, the sitemap the second, then pages. Each plan is one kill per run, then a clean run.
KILL_PLANS = {"at-robots": [1], "after-sitemap": [3], "mid-crawl": [8], "near-end": [15], "twice": [5, 6], "small-groups": [16]}
# Settings of a plan's runs: groups committed every 50 ms, so that some commit before the kill.
PLAN_SETTINGS = {"small-groups": ["-s", "GROUP_COMMIT_SECONDS=0.05"]}

SNAPSHOT = {
    "articles": "SELECT c.url, a.url, a.title, a.published_day, a.text_sha256, a.keywords, a.people "
    "FROM articles a JOIN captures c ON c.id = a.capture_id",
    "copies": "SELECT c.url, a.url, k.relation FROM copies k JOIN captures c ON c.id = k.capture_id "
    "JOIN articles a ON a.id = k.article_id",
    "captures": "SELECT url, final_url, status, content_sha256 FROM captures",
    "capture_bodies": "SELECT content_sha256, size FROM capture_bodies",
    "rejects": "SELECT url, stage, reason, times_seen FROM rejects",
    "fetch_failures": "SELECT url, status, error, times_seen FROM fetch_failures",
    "mentions": "SELECT a.url, m.person_id, m.in_title, m.in_body FROM mentions m JOIN articles a ON a.id = m.article_id",
    "keyword_matches": "SELECT a.url, k.keyword FROM keyword_matches k JOIN articles a ON a.id = k.article_id",
    "search": "SELECT a.url FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH 'Weinstein'",
    # The run's counts add up over its parts to what the archive holds (pages fetched aside:
    # a resumed part fetches robots.txt and the sitemap again).
    "run_counts": "SELECT spider, articles_added, copies_added, versions_added, rejects, fetch_failures FROM crawl_runs",
}


def snapshot(db) -> dict[str, list[tuple]]:
    """The archive's content, without ids, times and run ids (which differ between any two crawls)."""
    conn = sqlite3.connect(db)
    try:
        return {name: sorted(conn.execute(sql).fetchall()) for name, sql in SNAPSHOT.items()}
    finally:
        conn.close()


def crawl_command(site: Site, tmp_path, settings: tuple[str, ...] = ()) -> list[str]:
    topic = tmp_path / "topic.yml"
    topic.write_text(site.topic())
    return [
        sys.executable,
        "-m",
        "clippings",
        "crawl",
        "sitemaps",
        "--topic",
        str(topic),
        "--db",
        str(tmp_path / "archive.db"),
        *LOOPBACK,
        *settings,
    ]


def crawl(
    site: Site, tmp_path, kill_at: int | None = None, settings: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> int:
    """`clippings crawl sitemaps` in its own process group; SIGKILL to the group at request kill_at."""
    command = crawl_command(site, tmp_path, settings)
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env or SCRAPY_ENV,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with site.when(lambda number, path: number == kill_at, kill_group(process)):
        return process.wait(timeout=120)


@pytest.fixture(scope="module")
def site():
    with site_with_sitemap(ROUTES) as running:
        yield running


@pytest.fixture(scope="module")
def uninterrupted(site, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("uninterrupted")
    assert crawl(site, tmp_path) == 0
    return snapshot(tmp_path / "archive.db")


@pytest.fixture(scope="module", params=KILL_PLANS)
def resumed(request, site, tmp_path_factory):
    """Run the plan's killed crawls, then the same command to the end; what each run returned."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    settings = PLAN_SETTINGS.get(request.param, [])
    exits = [crawl(site, tmp_path, kill_at, settings) for kill_at in KILL_PLANS[request.param]]
    job = tmp_path / "archive.jobs" / "sitemaps-metoo.sqlite"
    finished = {url for (url,) in sqlite3.connect(job).execute("SELECT url FROM finished_urls")} if job.exists() else None
    archived = outcomes(tmp_path / "archive.db")
    before = len(site.server.requests)
    exits.append(crawl(site, tmp_path, settings=settings))
    refetched = {site.url(path) for path in site.server.requests[before:]} & (finished or set())
    return tmp_path, exits, finished, refetched, archived


def outcomes(db) -> set[str]:
    """The URLs whose outcome (an article, a copy, a reject, a fetch failure) the archive holds."""
    conn = sqlite3.connect(db)
    try:
        return {
            url
            for (url,) in conn.execute(
                "SELECT c.url FROM captures c JOIN articles a ON a.capture_id = c.id "
                "UNION SELECT c.url FROM captures c JOIN copies k ON k.capture_id = c.id "
                "UNION SELECT url FROM rejects UNION SELECT url FROM fetch_failures"
            )
        }
    finally:
        conn.close()


def test_uninterrupted_crawl_archives_every_page(uninterrupted):
    assert len(uninterrupted["articles"]) == 12 and len(uninterrupted["copies"]) == 1
    assert len(uninterrupted["rejects"]) == 1 and len(uninterrupted["fetch_failures"]) == 1


def test_killed_crawl_was_killed_then_finished(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    assert exits == [-signal.SIGKILL] * (len(exits) - 1) + [0]


def test_killed_crawl_keeps_its_job_state_beside_the_archive(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    assert finished is not None


def test_resumed_crawl_does_not_fetch_finished_urls_again(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    if not finished:
        pytest.skip("no URL had finished when this plan killed the crawl")
    assert refetched == set()


def test_killed_crawl_counts_only_committed_urls_as_finished(resumed):
    """The job state follows the archive's group commits (crawlers/writer.py): a URL it counts
    as finished has its outcome in the archive, however the kill fell (`archived`: the URLs
    the archive held after the kills)."""
    tmp_path, exits, finished, refetched, archived = resumed
    if not finished:
        pytest.skip("no URL had finished when this plan killed the crawl")
    assert finished <= archived


def test_resumed_crawl_ends_with_the_uninterrupted_archive(resumed, uninterrupted):
    tmp_path, exits, finished, refetched, archived = resumed
    assert snapshot(tmp_path / "archive.db") == uninterrupted


def test_resumed_archive_passes_integrity_checks(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    conn = sqlite3.connect(tmp_path / "archive.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    finally:
        conn.close()


def test_resumed_crawl_continues_one_crawl_run(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    conn = sqlite3.connect(tmp_path / "archive.db")
    runs = conn.execute("SELECT finish_reason FROM crawl_runs WHERE spider = 'sitemaps'").fetchall()
    conn.close()
    assert runs == [("finished",)]


def test_finished_crawl_removes_its_job_state(resumed):
    tmp_path, exits, finished, refetched, archived = resumed
    assert not (tmp_path / "archive.jobs").exists()


def test_resumed_crawl_counts_add_up_over_its_parts(resumed):
    """Each part adds what it committed: the run counts the uninterrupted crawl's 12 articles,
    1 copy, 1 reject and 1 failure (the snapshot compares them too), and at least its 17 pages."""
    tmp_path, exits, finished, refetched, archived = resumed
    assert rows(tmp_path / "archive.db", "SELECT articles_added, copies_added, rejects, fetch_failures FROM crawl_runs") == [
        (12, 1, 1, 1)
    ]
    ((pages,),) = rows(tmp_path / "archive.db", "SELECT pages_fetched FROM crawl_runs")
    assert pages >= 17


def test_second_crawl_of_the_same_spider_is_refused_while_the_first_runs(site, tmp_path):
    """The second `clippings crawl sitemaps` into the same archive, started while the first is
    fetching its first page, is refused with one sentence; the first ends as if alone."""
    second: list[subprocess.CompletedProcess] = []

    def start_second() -> bool:
        second.append(
            subprocess.run(
                crawl_command(site, tmp_path), cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=120
            )
        )
        return False

    with site.when(lambda number, path: path.startswith(f"/{DAY}/"), start_second):
        first = subprocess.run(
            crawl_command(site, tmp_path), cwd=PROJECT_ROOT, env=SCRAPY_ENV, capture_output=True, text=True, timeout=120
        )
    assert first.returncode == 0, first.stderr
    (refused,) = second
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1].startswith("Error: another sitemaps crawl (process "), refused.stderr
    assert f"is writing to {tmp_path / 'archive.db'}; wait for it to end, or stop it" in refused.stderr
    assert "Resuming" not in refused.stderr  # the running crawl's job state is not an interrupted one
    assert rows(tmp_path / "archive.db", "SELECT count(*), sum(articles_added) FROM crawl_runs") == [(1, 12)]
    assert not (tmp_path / "archive.jobs").exists()


def test_killed_crawl_leaves_no_remote_control_token_behind(site, tmp_path):
    """Scrapy 2.19's remote-control extension (an HTTP server on 127.0.0.1 that runs the Python code
    it is sent with a bearer token) writes its port and token to a job file in the user's state
    directory and removes it only on a clean stop: every killed crawl left one behind. The crawl
    runs without it (REMOTE_CONTROL_ENABLED, as TELNETCONSOLE_ENABLED)."""
    state = tmp_path / "state"
    env = {**SCRAPY_ENV, "XDG_STATE_HOME": str(state)}  # where platformdirs puts Scrapy's job files
    (tmp_path / "crawl").mkdir()
    assert crawl(site, tmp_path / "crawl", kill_at=8, env=env) == -signal.SIGKILL
    assert [p for p in state.rglob("*") if p.is_file()] == []
    assert "Remote control" not in (tmp_path / "crawl" / "archive.crawl.log").read_text()
