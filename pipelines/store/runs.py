"""The archive's record of its own making: the topics it was built with (with their outlets and
people), the crawl and import runs with their counts, the files an import read, and the logs of
rejected pages and failed fetches."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.items import FetchFailure
from pipelines.core.project import __version__
from pipelines.core.topic import Topic
from pipelines.store.tables import Tables, utc_now

# What a crawl run counts (crawl_runs columns), and how counts are added to them.
RUN_COUNTS = ("pages_fetched", "articles_added", "copies_added", "versions_added", "rejects", "fetch_failures")
ADD_RUN_COUNTS = (
    "UPDATE crawl_runs SET pages_fetched = pages_fetched + :pages_fetched, "
    "articles_added = articles_added + :articles_added, copies_added = copies_added + :copies_added, "
    "versions_added = versions_added + :versions_added, rejects = rejects + :rejects, "
    "fetch_failures = fetch_failures + :fetch_failures WHERE id = :run_id"
)


class Runs(Tables):
    """The tables topics, outlets, people, crawl_runs, import_files, rejects and fetch_failures."""

    # --- the topic -------------------------------------------------------

    def sync_topic(self, topic: Topic) -> None:
        """The topic file itself, and its outlets and people (upserted, never deleted)."""
        with self.transaction():
            self.db["topics"].insert(
                {
                    "sha256": topic.sha256,
                    "name": topic.name,
                    "title": topic.title,
                    "window_start": topic.start.isoformat(),
                    "window_end": topic.end.isoformat(),
                    "yaml": topic.text,
                    "first_used_at": utc_now(),
                },
                ignore=True,
            )
            self.db["outlets"].upsert_all(
                [
                    {
                        "id": o.id,
                        "name": o.name,
                        "country": o.country,
                        "language": o.language,
                        "domains": json.dumps(list(o.domains)),
                        "homepage": o.homepage,
                        "timezone": o.timezone,
                    }
                    for o in topic.outlets
                ],
                pk="id",
            )
            self.db["people"].upsert_all(
                [{"id": p.id, "name": p.name, "role": p.role, "aliases": json.dumps(list(p.aliases))} for p in topic.people],
                pk="id",
            )

    def latest_topic_yaml(self) -> str | None:
        """The topic file the archive was last built with, as stored; None before any run."""
        row = self.row("SELECT yaml FROM topics ORDER BY first_used_at DESC, rowid DESC LIMIT 1")
        return row["yaml"] if row else None

    def outlet_names(self) -> dict[str, str]:
        """{outlet id: its name}, for every outlet a topic has named."""
        return dict(self.conn.execute("SELECT id, name FROM outlets").fetchall())

    # --- runs ------------------------------------------------------------

    def start_run(
        self, run_id: str, spider: str, topic: Topic, user_agent: str, robots_obey: bool, settings: dict[str, Any] | None = None
    ) -> None:
        """A resumed run (crawlers/jobstate.py) keeps its row and its start time. `settings`:
        the settings the run applies, as recorded (crawlers.addons.recorded_settings); a resumed
        part adds the settings it was given to the row's, its value winning where both name one
        (the research thresholds cannot differ: `scrapy crawl` refuses such a resume)."""
        with self.transaction():
            if settings is not None and (recorded := self.run_settings(run_id)) is not None:
                merged = json.dumps({**recorded, **settings}, sort_keys=True)
                self.conn.execute("UPDATE crawl_runs SET settings = ? WHERE id = ?", (merged, run_id))
            self.db["crawl_runs"].insert(
                {
                    "id": run_id,
                    "spider": spider,
                    "topic": topic.name,
                    "topic_sha256": topic.sha256,
                    "started_at": utc_now(),
                    "user_agent": user_agent,
                    "robots_obey": int(robots_obey),
                    "clippings_version": __version__,
                    "settings": json.dumps(settings, sort_keys=True) if settings is not None else None,
                },
                ignore=True,
            )

    def run_settings(self, run_id: str) -> dict[str, Any] | None:
        """The settings the run recorded (None: no such run, or one from before runs recorded them)."""
        found = self.row("SELECT settings FROM crawl_runs WHERE id = ?", (run_id,))
        return json.loads(found["settings"]) if found and found["settings"] else None

    def add_run_counts(self, run_id: str, counts: dict[str, int]) -> None:
        """Add to the run's counts (RUN_COUNTS), in the caller's transaction: a crawl adds them
        with the writes they count (crawlers/writer.py)."""
        self.conn.execute(ADD_RUN_COUNTS, {**dict.fromkeys(RUN_COUNTS, 0), **counts, "run_id": run_id})

    def finish_run(self, run_id: str, reason: str, counts: dict[str, int]) -> None:
        with self.transaction():
            self.db["crawl_runs"].update(run_id, {"finished_at": utc_now(), "finish_reason": reason, **counts})

    def set_run_counts(self, run_id: str, counts: dict[str, int]) -> None:
        """Set the run's counts (some of RUN_COUNTS), in the caller's transaction: an import
        writes its files' counts so far with each batch."""
        self.db["crawl_runs"].update(run_id, counts)

    # --- the files an import read -------------------------------------------

    def imported_before(self, location: str, statuses: tuple[str, ...], topic_sha256: str) -> bool:
        """An import for this topic (the same file) read the file at `location` to an end in `statuses`."""
        return (
            self.row(
                "SELECT 1 AS found FROM import_files f JOIN crawl_runs r ON r.id = f.crawl_run_id WHERE f.location = ? "
                "AND f.status IN (SELECT value FROM json_each(?)) AND r.topic_sha256 = ? LIMIT 1",
                (location, json.dumps(statuses), topic_sha256),
            )
            is not None
        )

    def add_import_file(self, run_id: str, location: str, status: str, finished: bool = False) -> int:
        """A file the run's import starts reading (status "incomplete"), or has finished with
        already (`finished`: e.g. "already imported"); its row's id. One transaction."""
        now = utc_now()
        with self.transaction():
            row = {"crawl_run_id": run_id, "location": location, "started_at": now, "status": status}
            return self.db["import_files"].insert({**row, "finished_at": now} if finished else row).last_pk

    def update_import_file(self, file_id: int, values: dict[str, Any]) -> None:
        """The file's counts, problems, status or end, in the caller's transaction."""
        self.db["import_files"].update(file_id, values)

    # --- logs ------------------------------------------------------------

    def log_reject(self, url: str, stage: str, reason: str, spider: str, run_id: str, capture_id: int | None) -> bool:
        """One row per URL and stage: seeing it again updates the row instead of adding one.
        times_seen counts runs: a resumed run that sees the URL again does not add to it.
        False when this run had logged it already (a resumed part seeing it again)."""
        now = utc_now()
        with self.transaction():
            logged = self.row("SELECT crawl_run_id FROM rejects WHERE url = ? AND stage = ?", (url, stage))
            self.conn.execute(
                "INSERT INTO rejects (url, stage, reason, capture_id, spider, first_seen_at, last_seen_at, crawl_run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (url, stage) DO UPDATE SET reason = excluded.reason, "
                "capture_id = coalesce(excluded.capture_id, capture_id), last_seen_at = excluded.last_seen_at, "
                "times_seen = times_seen + (crawl_run_id IS NOT excluded.crawl_run_id), crawl_run_id = excluded.crawl_run_id",
                (url, stage, reason, capture_id, spider, now, now, run_id),
            )
        return logged is None or logged["crawl_run_id"] != run_id

    def forget_rejects(self, capture_id: int) -> None:
        """The capture's rejects no longer hold (extracted again, it yields an article): in the
        caller's transaction."""
        self.conn.execute("DELETE FROM rejects WHERE capture_id = ?", (capture_id,))

    def log_failure(self, failure: FetchFailure) -> bool:
        """One row per URL, as log_reject; False when this run had logged it already."""
        now = failure.failed_at or utc_now()
        with self.transaction():
            logged = self.row("SELECT crawl_run_id FROM fetch_failures WHERE url = ?", (failure.url,))
            self.conn.execute(
                "INSERT INTO fetch_failures (url, status, error, spider, first_seen_at, last_seen_at, crawl_run_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET status = excluded.status, error = excluded.error, "
                "last_seen_at = excluded.last_seen_at, times_seen = times_seen + (crawl_run_id IS NOT excluded.crawl_run_id), "
                "crawl_run_id = excluded.crawl_run_id",
                (failure.url, failure.status, failure.error, failure.spider, now, now, failure.crawl_run_id),
            )
        return logged is None or logged["crawl_run_id"] != failure.crawl_run_id
