"""The stories: each article's text sketch (text_sketches) and the story it belongs to
(articles.story_id, the id of the story's earliest-published article). Which texts are one story,
and which article leads it, are the core's rules (pipelines/core/stories.py)."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.stories import hashes_shared_at_least, most_similar, next_lead, story_lead
from pipelines.store.tables import Tables


class Stories(Tables):
    """The table text_sketches and the column articles.story_id, written in the transaction of
    the article's own write (articles.py)."""

    def join_story(self, article_id: int, text_sketch: tuple[int, ...], story_similarity: float) -> None:
        """The article joins the story of its most similar archived text, or starts one. The
        story's id is its earliest-published article's (undated ones never lead)."""
        self.db["text_sketches"].insert_all({"article_id": article_id, "hash": h} for h in text_sketch)
        match = self._most_similar(article_id, text_sketch, story_similarity)
        story_id = match["story_id"] if match else article_id
        self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))
        self.lead_story(story_id)

    def lead_story(self, story_id: int) -> None:
        """The story's id becomes its lead's (pipelines.core.stories.story_lead), if that changed."""
        leader = story_lead(self._members(story_id))
        if leader != story_id:
            self.conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", (leader, story_id))

    def leave_story(self, article_id: int) -> None:
        """The article stands alone; a story it led is led by the next lead of the others
        (pipelines.core.stories.next_lead), or each of them alone, as after a takedown."""
        self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (article_id, article_id))
        others = [member for member in self._members(article_id) if member[0] != article_id]
        if (lead := next_lead(others)) is not None:
            self.conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ? AND id != ?", (lead, article_id, article_id))
        else:
            self.conn.execute("UPDATE articles SET story_id = id WHERE story_id = ? AND id != ?", (article_id, article_id))

    def _members(self, story_id: int) -> list[tuple[int, str | None]]:
        """(id, published day) of the story's articles."""
        return self.conn.execute("SELECT id, published_day FROM articles WHERE story_id = ?", (story_id,)).fetchall()

    def _most_similar(self, article_id: int, text_sketch: tuple[int, ...], story_similarity: float) -> dict[str, Any] | None:
        """The archived article whose text is most similar, at `story_similarity` or more: the
        articles sharing enough hashes, compared by the core (pipelines.core.stories.most_similar)."""
        if not text_sketch:
            return None
        candidates = self.conn.execute(
            "SELECT article_id FROM text_sketches WHERE hash IN (SELECT value FROM json_each(?)) AND article_id != ? "
            "GROUP BY article_id HAVING count(*) >= ?",
            (json.dumps(text_sketch), article_id, hashes_shared_at_least(story_similarity, len(text_sketch))),
        ).fetchall()
        best = most_similar(text_sketch, ((candidate, self._sketch(candidate)) for (candidate,) in candidates), story_similarity)
        return self.row("SELECT id, story_id FROM articles WHERE id = ?", (best,)) if best else None

    def _sketch(self, article_id: int) -> tuple[int, ...]:
        return tuple(
            h for (h,) in self.conn.execute("SELECT hash FROM text_sketches WHERE article_id = ? ORDER BY hash", (article_id,))
        )
