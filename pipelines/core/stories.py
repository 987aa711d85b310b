"""Near-duplicate texts grouped into stories: wire copies, updated versions, slug variants.

A text's sketch is the SKETCH_SIZE smallest 64-bit hashes of its 4-word shingles (a bottom-k
MinHash). Two sketches estimate the Jaccard similarity of the shingle sets; at the
STORY_SIMILARITY setting or more the texts are one story (most_similar; the store keeps the
sketches and the stories, pipelines/store/stories.py). The sketch
ignores case and punctuation, so the same article with other boilerplate, a reworded headline
line or an added paragraph stays close.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

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


def hashes_shared_at_least(story_similarity: float, sketch_size: int) -> int:
    """How many hashes a text must share with a sketch of `sketch_size` to be `story_similarity`
    like it: a pair at the threshold shares at least that share of the union's smallest hashes.
    The store looks for candidates with it before comparing them."""
    return max(1, int(story_similarity * sketch_size))


def most_similar(
    text_sketch: tuple[int, ...], candidates: Iterable[tuple[int, tuple[int, ...]]], story_similarity: float
) -> int | None:
    """Of the (id, sketch) candidates, the id of the one most similar to the text, at
    `story_similarity` or more; a tie goes to the later candidate. None when none is that similar."""
    best, best_score = None, story_similarity
    for candidate, other in candidates:
        if (score := similarity(text_sketch, other)) >= best_score:
            best, best_score = candidate, score
    return best


def story_lead(members: Iterable[tuple[int, str | None]]) -> int:
    """The article that leads a story (and gives it its id), of its (id, published day) members:
    the earliest published, by day then id; an undated one only when none is dated."""
    return min(members, key=lambda member: (member[1] is None, member[1] or "", member[0]))[0]


def next_lead(others: Iterable[tuple[int, str | None]]) -> int | None:
    """Who leads a story its lead left (withdrawn, taken down), of the (id, published day) others:
    the earliest published; None when none is dated, and each undated one then stands alone."""
    dated = [member for member in others if member[1] is not None]
    return story_lead(dated) if dated else None
