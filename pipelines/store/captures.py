"""The raw pages: captures (one per URL, source and body), their compressed bodies (shared by
every capture of the same bytes), and the outlets' compression dictionaries (compression.py)."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.items import FetchedPage
from pipelines.store.compression import PLAIN, Codecs, DictionaryPolicy, UnreadableBody, dictionary_label, train
from pipelines.store.tables import ArchiveError, Tables, utc_now


class Captures(Tables):
    """The tables captures, capture_bodies and compression_dictionaries.

    `dictionaries` says when an outlet's bodies get a dictionary; `codecs` keeps the compressors
    made with them (both set by start_codecs, which Archive calls on opening)."""

    dictionaries: DictionaryPolicy
    codecs: Codecs

    def start_codecs(self, dictionaries: DictionaryPolicy) -> None:
        self.dictionaries = dictionaries
        self.codecs = Codecs(self._dictionary_bytes)
        self._untrainable: dict[str, int] = {}  # outlet -> its body count when training found too little

    def forget_codecs(self) -> None:
        """Caches that may hold what a rolled-back transaction wrote: a dictionary id can be
        given again to other bytes."""
        self.start_codecs(self.dictionaries)

    # --- captures --------------------------------------------------------

    def add_capture(self, page: FetchedPage, content_sha256: str, train_dictionaries: bool = True) -> tuple[int, bool]:
        """Store the raw page unless this URL gave these exact bytes from this source before; (id, is_new).

        A redirect is its own capture (requested URL, final URL); its body is shared with
        every other capture of the same bytes. A new body is compressed with its outlet's
        dictionary; an outlet without one gets it once it has enough bodies to train on (here,
        unless `train_dictionaries` is False: the crawl trains off its event loop, needs_dictionary()).
        """
        existing = self.row(
            "SELECT id FROM captures WHERE url = ? AND content_sha256 = ? AND source = ?", (page.url, content_sha256, page.source)
        )
        if existing:
            return existing["id"], False
        with self.transaction():
            new_body = self.row("SELECT 1 AS known FROM capture_bodies WHERE content_sha256 = ?", (content_sha256,)) is None
            dictionary_id = self.dictionary_for(page.outlet_id) if new_body else None
            if new_body:
                compression, body = self.codecs.compress(page.body, dictionary_id)
                self.db["capture_bodies"].insert(
                    {"content_sha256": content_sha256, "size": len(page.body), "compression": compression, "body": body}
                )
            table = self.db["captures"].insert(_capture_row(page, content_sha256))
        if train_dictionaries and new_body and dictionary_id is None and self._ready_to_train(page.outlet_id):
            self.train_dictionary(page.outlet_id)
        return table.last_pk, True

    def captures_after(self, capture_id: int, limit: int) -> list[dict[str, Any]]:
        """The next `limit` captures (every column) past `capture_id`, in id order."""
        cursor = self.conn.execute("SELECT * FROM captures WHERE id > ? ORDER BY id LIMIT ?", (capture_id, limit))
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, values)) for values in cursor.fetchall()]

    def capture_body(self, capture_id: int) -> bytes:
        """The raw bytes of a capture, decompressed."""
        with self.snapshot():  # the body and its dictionary as one state: a takedown may retrain between two reads
            row = self.row(
                "SELECT b.body, b.compression FROM captures c JOIN capture_bodies b USING (content_sha256) WHERE c.id = ?",
                (capture_id,),
            )
            if row is None:
                raise ArchiveError(f"no capture {capture_id}")
            try:
                return self.codecs.decompress(row["body"], row["compression"])
            except UnreadableBody as error:
                raise ArchiveError(f"capture {capture_id}: {error}") from None

    # --- compression dictionaries ----------------------------------------

    def _dictionary_bytes(self, dictionary_id: int) -> bytes:
        row = self.row("SELECT dictionary FROM compression_dictionaries WHERE id = ?", (dictionary_id,))
        if row is None:
            raise UnreadableBody(f"compression dictionary {dictionary_id} is missing")
        return row["dictionary"]

    def dictionary_for(self, outlet_id: str | None) -> int | None:
        """The outlet's current compression dictionary (its latest), if it has one."""
        if outlet_id is None:
            return None
        return self.row("SELECT max(id) AS id FROM compression_dictionaries WHERE outlet_id = ?", (outlet_id,))["id"]

    def _outlet_bodies(self, outlet_id: str, limit: int) -> int:
        return self.row(
            "SELECT count(*) AS n FROM (SELECT DISTINCT content_sha256 FROM captures WHERE outlet_id = ? LIMIT ?)",
            (outlet_id, limit),
        )["n"]

    def _ready_to_train(self, outlet_id: str | None) -> bool:
        """The outlet has the bodies the dictionary policy asks for (DictionaryPolicy.bodies_to_train)."""
        if outlet_id is None:
            return False
        needed = self.dictionaries.bodies_to_train(self._untrainable.get(outlet_id, 0))
        return needed is not None and self._outlet_bodies(outlet_id, needed) >= needed

    def _samples(self, outlet_id: str, count: int) -> list[bytes]:
        """The outlet's latest `count` bodies, decompressed: its current templates."""
        rows = self.conn.execute(
            "SELECT b.body, b.compression FROM capture_bodies b JOIN "
            "(SELECT content_sha256, max(id) AS latest FROM captures WHERE outlet_id = ? GROUP BY content_sha256 "
            " ORDER BY latest DESC LIMIT ?) USING (content_sha256)",
            (outlet_id, count),
        ).fetchall()
        return [self.codecs.decompress(body, compression) for body, compression in rows]

    def needs_dictionary(self, outlet_id: str | None) -> bool:
        """The outlet has no dictionary and enough bodies to train one."""
        return outlet_id is not None and self.dictionary_for(outlet_id) is None and self._ready_to_train(outlet_id)

    def train_dictionary(self, outlet_id: str) -> int | None:
        """Train the outlet's dictionary unless it has one; its id, or None when there was too little
        to learn from."""
        samples = self.dictionary_samples(outlet_id)
        return self.add_dictionary(outlet_id, len(samples), train(samples, self.dictionaries.size))

    def dictionary_samples(self, outlet_id: str) -> list[bytes]:
        """The bodies an outlet's dictionary is trained on (pipelines.store.compression.train)."""
        with self.snapshot():
            return self._samples(outlet_id, self.dictionaries.samples)

    def add_dictionary(self, outlet_id: str, samples: int, dictionary: bytes | None) -> int | None:
        """Keep a dictionary trained on `samples` bodies (None: too little to learn from); its id.
        Trained outside the write lock: another writer may have trained one meanwhile, which stands."""
        if dictionary is None:
            self._untrainable[outlet_id] = samples
            return None
        with self.transaction():
            if (known := self.dictionary_for(outlet_id)) is not None:
                return known
            return self._store_dictionary(outlet_id, samples, dictionary)

    def _store_dictionary(self, outlet_id: str, samples: int, dictionary: bytes) -> int:
        return (
            self.db["compression_dictionaries"]
            .insert(
                {
                    "outlet_id": outlet_id,
                    "trained_at": utc_now(),
                    "samples": samples,
                    "size": len(dictionary),
                    "dictionary": dictionary,
                }
            )
            .last_pk
        )

    def recompress_batch(self, after: str, limit: int) -> tuple[str | None, int, int]:
        """Recompress, in one transaction, the next `limit` plain bodies past `after` (by SHA-256)
        with their outlet's dictionary, where that makes them smaller. (The last SHA-256 looked
        at, or None at the end; bodies looked at; bodies recompressed.)"""
        with self.transaction():
            rows = self.conn.execute(
                "SELECT b.content_sha256, b.body, (SELECT max(d.id) FROM captures c JOIN compression_dictionaries d "
                "ON d.outlet_id = c.outlet_id WHERE c.content_sha256 = b.content_sha256) "
                "FROM capture_bodies b WHERE b.compression = ? AND b.content_sha256 > ? ORDER BY b.content_sha256 LIMIT ?",
                (PLAIN, after, limit),
            ).fetchall()
            recompressed = sum(
                self._recompress(content_sha256, body, PLAIN, dictionary_id) > 0
                for content_sha256, body, dictionary_id in rows
                if dictionary_id is not None
            )
        return (rows[-1][0] if len(rows) == limit else None), len(rows), recompressed

    def _recompress(
        self, content_sha256: str, body: bytes, compression: str, dictionary_id: int | None, only_if_smaller: bool = True
    ) -> int:
        """Write the body again with the dictionary (None: plain); the bytes saved (0: left as it was)."""
        new_compression, new_body = self.codecs.compress(self.codecs.decompress(body, compression), dictionary_id)
        if only_if_smaller and len(new_body) >= len(body):
            return 0
        self.conn.execute(
            "UPDATE capture_bodies SET compression = ?, body = ? WHERE content_sha256 = ?",
            (new_compression, new_body, content_sha256),
        )
        return len(body) - len(new_body)

    def retrain_dictionaries(self, outlet_id: str) -> int:
        """Replace the outlet's dictionaries by one trained on the bodies it has now (or none, if
        too few remain), inside the caller's transaction: every body they compressed is written
        again with the new one, then they are deleted (zeroed, under secure_delete). Returns how
        many were deleted. A takedown needs it: a dictionary holds bytes of the pages it learnt from.
        The new one needs as many samples as the old ones had (the setting they were trained under)."""
        old = dict(self.conn.execute("SELECT id, samples FROM compression_dictionaries WHERE outlet_id = ?", (outlet_id,)))
        needed = max(old.values(), default=0)
        samples = self._samples(outlet_id, needed) if needed > 0 else []
        dictionary = train(samples, self.dictionaries.size) if samples and len(samples) >= needed else None
        new_id = self._store_dictionary(outlet_id, len(samples), dictionary) if dictionary else None
        for dictionary_id in old:
            label = dictionary_label(dictionary_id)
            rows = self.conn.execute("SELECT content_sha256, body FROM capture_bodies WHERE compression = ?", (label,))
            for content_sha256, body in rows.fetchall():
                self._recompress(content_sha256, body, label, new_id, only_if_smaller=False)
            self.conn.execute("DELETE FROM compression_dictionaries WHERE id = ?", (dictionary_id,))
            self.codecs.forget(dictionary_id)
        return len(old)


def _capture_row(page: FetchedPage, content_sha256: str) -> dict:
    return {
        "url": page.url,
        "final_url": page.final_url,
        "status": page.status,
        "headers": json.dumps(page.headers),
        "content_type": page.header("content-type"),
        "fetched_at": page.fetched_at,
        "content_sha256": content_sha256,
        "source": page.source,
        "archived_at": page.archived_at,
        "spider": page.spider,
        "crawl_run_id": page.crawl_run_id,
        "outlet_id": page.outlet_id,
        "record_file": page.record_file,
        "record_offset": page.record_offset,
        "record_length": page.record_length,
    }
