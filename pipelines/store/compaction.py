"""`clippings compact`: train the dictionaries outlets lack and recompress the bodies stored before them.

Each batch is one transaction that rewrites some bodies in place (compression label and bytes
together), so a crash between or inside batches leaves every body readable, compressed one
way or the other; running it again carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: `clippings --help` reads BATCH without loading the extraction
    from pipelines.store.archive import Archive

BATCH = 100  # bodies per transaction: a crawl writing at the same time waits at most for one batch


@dataclass
class Compaction:
    bytes_before: int = 0
    bytes_after: int = 0
    dictionaries_trained: list[str] = field(default_factory=list)  # outlets
    bodies_recompressed: int = 0


def stored_bytes(archive: Archive) -> int:
    """What the raw pages take: compressed bodies plus the dictionaries they need."""
    return archive.row(
        "SELECT (SELECT coalesce(sum(length(body)), 0) FROM capture_bodies) "
        "+ (SELECT coalesce(sum(length(dictionary)), 0) FROM compression_dictionaries) AS n"
    )["n"]


def outlets_to_train(archive: Archive) -> list[str]:
    """Outlets with enough bodies and no dictionary yet."""
    samples = archive.dictionaries.samples
    if samples <= 0:
        return []
    rows = archive.conn.execute(
        "SELECT outlet_id FROM captures WHERE outlet_id IS NOT NULL "
        "AND outlet_id NOT IN (SELECT outlet_id FROM compression_dictionaries WHERE outlet_id IS NOT NULL) "
        "GROUP BY outlet_id HAVING count(DISTINCT content_sha256) >= ? ORDER BY outlet_id",
        (samples,),
    )
    return [outlet for (outlet,) in rows]


def compact(archive: Archive, batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> Compaction:
    """Train missing dictionaries, then recompress plain bodies batch by batch.
    `progress(bodies looked at, bodies recompressed)` is called after each committed batch."""
    result = Compaction(bytes_before=stored_bytes(archive))
    for outlet in outlets_to_train(archive):
        if archive.train_dictionary(outlet) is not None:
            result.dictionaries_trained.append(outlet)
    after, looked_at = "", 0
    while after is not None:
        after, looked, recompressed = archive.recompress_batch(after, batch)
        looked_at += looked
        result.bodies_recompressed += recompressed
        if progress:
            progress(looked_at, result.bodies_recompressed)
    result.bytes_after = stored_bytes(archive)
    return result
