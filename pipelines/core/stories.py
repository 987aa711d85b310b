"""Near-duplicate texts grouped into stories: wire copies, updated versions, slug variants.

A text's sketch is the SKETCH_SIZE smallest 64-bit hashes of its 4-word shingles (a bottom-k
MinHash). Two sketches estimate the Jaccard similarity of the shingle sets; at the
STORY_SIMILARITY setting or more the texts are one story (Archive.add_article). The sketch
ignores case and punctuation, so the same article with other boilerplate, a reworded headline
line or an added paragraph stays close.
"""

from __future__ import annotations

import hashlib
import re

SHINGLE_WORDS = 4
SKETCH_SIZE = 64
WORD = re.compile(r"\w+")


def sketch(text: str) -> tuple[int, ...]:
    """The smallest hashes of the text's shingles, ascending, as signed 64-bit integers (SQLite's)."""
    words = WORD.findall(text.casefold())
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    hashes = {int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big", signed=True) for s in shingles if s}
    return tuple(sorted(hashes)[:SKETCH_SIZE])


def similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity: the share of the union's smallest hashes found in both."""
    if not first or not second:
        return 0.0
    union = sorted(set(first) | set(second))[: min(SKETCH_SIZE, len(set(first) | set(second)))]
    both = set(first) & set(second)
    return sum(h in both for h in union) / len(union)
