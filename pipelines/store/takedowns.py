"""Takedowns: the listed patterns (takedowns), and the removal of everything they cover, from the
captures to the compression dictionaries that learnt from them. Which URLs a pattern covers is the
core's rule (pipelines/core/takedowns.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pipelines.core import takedowns
from pipelines.store.captures import Captures
from pipelines.store.tables import ArchiveError, utc_now

# What a takedown removes, with taken_down(url) registered by Takedowns._removing.
TAKEDOWN_SELECTION = (
    "CREATE TEMP TABLE gone_captures AS SELECT id FROM captures WHERE taken_down(url) OR taken_down(final_url)",
    "CREATE TEMP TABLE gone_articles AS SELECT id FROM articles "
    "WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures)",
    "INSERT INTO temp.gone_captures SELECT capture_id FROM articles WHERE id IN (SELECT id FROM temp.gone_articles) "
    "UNION SELECT capture_id FROM copies WHERE taken_down(url) OR article_id IN (SELECT id FROM temp.gone_articles) "
    "UNION SELECT capture_id FROM article_versions WHERE article_id IN (SELECT id FROM temp.gone_articles)",
    # A story whose lead goes is led by its earliest-published remaining article (undated ones
    # never lead; an article left alone leads itself): pipelines.core.stories.next_lead, here for
    # every story at once. Computed before anything changes.
    "CREATE TEMP TABLE new_leads AS SELECT a.story_id AS old_lead, ("
    "  SELECT m.id FROM articles m WHERE m.story_id = a.story_id AND m.published_day IS NOT NULL"
    "  AND m.id NOT IN (SELECT id FROM temp.gone_articles) ORDER BY m.published_day, m.id LIMIT 1) AS new_lead "
    "FROM articles a WHERE a.story_id IN (SELECT id FROM temp.gone_articles) GROUP BY a.story_id",
    "UPDATE articles SET story_id = coalesce((SELECT new_lead FROM temp.new_leads WHERE old_lead = articles.story_id), id) "
    "WHERE story_id IN (SELECT id FROM temp.gone_articles) AND id NOT IN (SELECT id FROM temp.gone_articles)",
)
# Outlets whose dictionaries may have learnt from a removed page: they are trained again without it.
TAKEDOWN_DICTIONARIES = (
    "SELECT DISTINCT outlet_id FROM captures WHERE id IN (SELECT id FROM temp.gone_captures) "
    "AND outlet_id IN (SELECT outlet_id FROM compression_dictionaries) ORDER BY outlet_id"
)
TAKEDOWN_DELETES = {
    "rejects": "DELETE FROM rejects WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures)",
    "copies": "DELETE FROM copies WHERE taken_down(url) OR capture_id IN (SELECT id FROM temp.gone_captures) "
    "OR article_id IN (SELECT id FROM temp.gone_articles)",
    "article_versions": "DELETE FROM article_versions WHERE capture_id IN (SELECT id FROM temp.gone_captures) "
    "OR article_id IN (SELECT id FROM temp.gone_articles)",
    # mentions and keyword_matches go with their article (ON DELETE CASCADE), the index by trigger
    "articles": "DELETE FROM articles WHERE id IN (SELECT id FROM temp.gone_articles)",
    "captures": "DELETE FROM captures WHERE id IN (SELECT id FROM temp.gone_captures)",
    "capture_bodies": "DELETE FROM capture_bodies WHERE content_sha256 NOT IN (SELECT content_sha256 FROM captures)",
    "fetch_failures": "DELETE FROM fetch_failures WHERE taken_down(url)",
}


class Takedowns(Captures):
    """The table takedowns, and the removals from every other table that each one makes."""

    def takedown_patterns(self) -> list[str]:
        return [pattern for (pattern,) in self.conn.execute("SELECT pattern FROM takedowns ORDER BY id")]

    def latest_takedown(self) -> int | None:
        """The id of the takedown added last (None: none yet): a writer that holds the patterns
        reads them again when it changes."""
        return self.row("SELECT max(id) AS id FROM takedowns")["id"]

    def takedown_list(self) -> list[tuple[str, str, str, int]]:
        """(requested on, pattern, reason, records removed) of each takedown, in the order added."""
        return self.conn.execute("SELECT requested_on, pattern, reason, records_removed FROM takedowns ORDER BY id").fetchall()

    def add_takedown(self, pattern: str, reason: str, requested_on: str) -> dict[str, int]:
        """Record the takedown and remove what it covers (see _remove_covered), in one
        transaction. Returns the rows removed per table."""
        if pattern in self.takedown_patterns():
            raise ArchiveError(f"the takedown pattern {pattern!r} is already listed")
        with self._removing([pattern]) as remove:
            removed = remove()
            self.db["takedowns"].insert(
                {
                    "pattern": pattern,
                    "reason": reason,
                    "requested_on": requested_on,
                    "added_at": utc_now(),
                    "records_removed": sum(n for table, n in removed.items() if table != "compression_dictionaries"),
                }
            )
        return removed

    def apply_takedowns(self) -> dict[str, int]:
        """Remove again whatever every listed takedown covers (e.g. pages a crawl that was
        running during `takedown add` stored after it), in one transaction."""
        patterns = self.takedown_patterns()
        if not patterns:
            return {}
        with self._removing(patterns) as remove:
            return remove()

    @contextmanager
    def _removing(self, patterns: list[str]) -> Iterator:
        """A transaction in which taken_down(url) matches the patterns. Deleted pages are
        zeroed on disk (secure_delete), the search index is rebuilt compactly and the WAL
        checkpointed afterwards, so the file keeps no trace of what was removed."""
        matcher = takedowns.Takedowns(patterns)
        self.conn.create_function("taken_down", 1, lambda url: matcher.covers(url) is not None, deterministic=True)
        self.conn.execute("PRAGMA secure_delete = ON")
        with self.transaction():
            yield self._remove_covered
        self.conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _remove_covered(self) -> dict[str, int]:
        """Remove what taken_down() covers: captures whose URL or final URL matches, articles
        and copies at matching URLs or made from those captures, an article's copies (the same
        text) with it and the captures they came from, its versions and their captures (and any
        version whose capture matches), bodies no remaining capture shares,
        mentions, keyword matches and search entries (by cascade and trigger), and matching
        rejects and fetch failures."""
        for statement in TAKEDOWN_SELECTION:
            self.conn.execute(statement)
        retrain = [outlet for (outlet,) in self.conn.execute(TAKEDOWN_DICTIONARIES)]
        removed = {}
        for table, sql in TAKEDOWN_DELETES.items():
            removed[table] = self.conn.execute(sql).rowcount
        removed["compression_dictionaries"] = sum(self.retrain_dictionaries(outlet) for outlet in retrain)
        for temporary in ("gone_captures", "gone_articles", "new_leads"):
            self.conn.execute(f"DROP TABLE temp.{temporary}")
        return removed
