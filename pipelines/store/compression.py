"""Raw page bodies compressed with zstd: alone, or with a dictionary trained on the outlet's own pages.

An outlet's pages share most of their bytes (templates, scripts, navigation). A dictionary
trained on some of them holds those bytes once, and each body compressed with it keeps
little more than what is its own. `capture_bodies.compression` says how each body reads:
"zstd" (alone) or "zstd+dict:ID" (with the row ID of `compression_dictionaries`). Ids are
never reused (AUTOINCREMENT) and a dictionary a body uses cannot be deleted (a trigger), so a
body always reads back with the dictionary it was written with.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import zstandard

PLAIN = "zstd"
WITH_DICTIONARY = "zstd+dict:"
# Level 5 with an outlet dictionary: 2.6% more bytes than level 9 (0.42x a gzipped WARC against
# 0.41x, storage benchmark, 12 outlets) in half the time (0.64 ms a body against 1.32 ms), which
# the crawl's own process spends on every page; level 3 gave 0.48x, level 4 0.44x, level 6 0.42x.
LEVEL = 5
# Measured on the storage benchmark's 24 outlets of 90 pages (BENCHMARKS.md), with the fixed COVER
# parameters below: bodies took 11,960 bytes a capture with 128 KiB dictionaries, 10,190 with
# 192 KiB and 9,440 with 256 KiB (dictionaries apart: 14,222 bytes a capture in all at 256 KiB
# against 15,337 at 128 KiB); the dictionary's own bytes count less the more pages an outlet has,
# so 256 KiB, where 384 KiB gave less than 1% more. Training takes about as long at either size.
DICTIONARY_SAMPLES = 64
DICTIONARY_SIZE = 256 * 1024
# zstd's COVER parameters, fixed rather than searched for: on 6 of the storage benchmark's outlets,
# training took 0.61 s instead of 3.03 s (it runs in the crawl's own process, once an outlet) for
# 1.2% more bytes per outlet, dictionary included.
COVER_SEGMENT = 1024  # k
COVER_DMER = 8  # d


class UnreadableBody(Exception):
    """A body whose compression this clippings cannot read: the message says why."""


@dataclass(frozen=True)
class DictionaryPolicy:
    """When an outlet gets a dictionary: once it has `samples` bodies (0: never), of at most `size` bytes."""

    samples: int = DICTIONARY_SAMPLES
    size: int = DICTIONARY_SIZE

    def bodies_to_train(self, found_too_little_at: int = 0) -> int | None:
        """How many bodies an outlet needs before training its dictionary (None: never): the
        policy's samples, and more than twice as many as when training last found too little
        (`found_too_little_at` bodies), so that a failed training is not repeated every page."""
        if self.samples <= 0:
            return None
        return max(self.samples, 2 * found_too_little_at)


def dictionary_label(dictionary_id: int) -> str:
    return f"{WITH_DICTIONARY}{dictionary_id}"


def dictionary_of(compression: str) -> int | None:
    """The dictionary id a compression label names; None for plain zstd."""
    if compression == PLAIN:
        return None
    if compression.startswith(WITH_DICTIONARY) and compression[len(WITH_DICTIONARY) :].isdigit():
        return int(compression[len(WITH_DICTIONARY) :])
    raise UnreadableBody(f"unknown capture compression {compression!r}")


def train(samples: list[bytes], size: int) -> bytes | None:
    """A dictionary of at most `size` bytes from the samples; None when zstd finds too little to
    learn from (too few or too small samples): their bodies stay plain."""
    # zstd wants about ten times more sample bytes than dictionary bytes.
    size = min(size, sum(map(len, samples)) // 10)
    if len(samples) < 8 or size < 1024:
        return None
    try:
        return zstandard.train_dictionary(size, samples, k=COVER_SEGMENT, d=COVER_DMER, level=LEVEL).as_bytes()
    except zstandard.ZstdError:
        return None


class Codecs:
    """Compressors and decompressors with a dictionary, kept for the dictionaries used last: a
    dictionary's bytes never change under its id. `load(id)` returns them from the archive.

    A level-5 compressor with a 256 KiB dictionary holds 6.3 MB once used (a decompressor about
    0.3 MB): a crawl of many outlets keeps the latest COMPRESSORS_KEPT, and makes one
    again in a few milliseconds when an outlet comes back."""

    COMPRESSORS_KEPT = 16
    DECOMPRESSORS_KEPT = 64

    def __init__(self, load: Callable[[int], bytes]):
        self.load = load
        self.plain_compressor = zstandard.ZstdCompressor(level=LEVEL)
        self.plain_decompressor = zstandard.ZstdDecompressor()
        self.compressors: OrderedDict[int, zstandard.ZstdCompressor] = OrderedDict()
        self.decompressors: OrderedDict[int, zstandard.ZstdDecompressor] = OrderedDict()

    def compress(self, body: bytes, dictionary_id: int | None) -> tuple[str, bytes]:
        """(compression label, compressed bytes)."""
        if dictionary_id is None:
            return PLAIN, self.plain_compressor.compress(body)
        compressor = _kept(
            self.compressors,
            dictionary_id,
            self.COMPRESSORS_KEPT,
            lambda: zstandard.ZstdCompressor(level=LEVEL, dict_data=zstandard.ZstdCompressionDict(self.load(dictionary_id))),
        )
        return dictionary_label(dictionary_id), compressor.compress(body)

    def decompress(self, body: bytes, compression: str) -> bytes:
        dictionary_id = dictionary_of(compression)
        try:
            if dictionary_id is None:
                return self.plain_decompressor.decompress(body)
            decompressor = _kept(
                self.decompressors,
                dictionary_id,
                self.DECOMPRESSORS_KEPT,
                lambda: zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(self.load(dictionary_id))),
            )
            return decompressor.decompress(body)
        except zstandard.ZstdError as error:
            raise UnreadableBody(f"a capture body does not decompress ({compression}): {error}") from error

    def forget(self, dictionary_id: int) -> None:
        self.compressors.pop(dictionary_id, None)
        self.decompressors.pop(dictionary_id, None)


def _kept(cache: OrderedDict, key: int, limit: int, make: Callable):
    """cache[key], made if missing; the least recently used entry goes beyond `limit`."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = value = make()
    if len(cache) > limit:
        cache.popitem(last=False)
    return value
