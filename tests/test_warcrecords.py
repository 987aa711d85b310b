"""The WARC reader (pipelines/sources/warcrecords.py) and the archived HTTP response
(pipelines/sources/httpmessages.py) as functions, on files built here: where each record lies, what is
damage and where reading goes on after it."""

from __future__ import annotations

import gzip
import io

import pytest

from pipelines.sources.httpmessages import BodyTooLarge, UnreadableResponse, dechunked, decoded_body, parse_response
from pipelines.sources.warcrecords import Damage, WarcRecord, read_records


def record(uri: str, block: bytes, kind: str = "resource", newline: bytes = b"\r\n") -> bytes:
    head = [b"WARC/1.0", b"WARC-Type: " + kind.encode(), b"WARC-Target-URI: " + uri.encode(), b"Content-Length: %d" % len(block)]
    return newline.join(head) + newline + newline + block + newline + newline


def read(data: bytes, keep: int = 1 << 20, max_inflation: int = 100) -> list[WarcRecord | Damage]:
    return list(read_records(io.BytesIO(data), lambda headers: keep, max_inflation))


def summary(items) -> list[tuple]:
    return [
        ("damage", i.offset, i.reason) if isinstance(i, Damage) else (i.target_uri, i.offset, i.length, i.block) for i in items
    ]


def test_plain_records_lie_where_they_start_up_to_the_next():
    one, two = record("http://a.example/", b"first"), record("http://b.example/", b"second")
    assert summary(read(one + two)) == [
        ("http://a.example/", 0, len(one), b"first"),
        ("http://b.example/", len(one), len(two), b"second"),
    ]


def test_gzip_records_lie_in_their_members():
    one, two = gzip.compress(record("http://a.example/", b"first")), gzip.compress(record("http://b.example/", b"second"))
    assert summary(read(one + two)) == [
        ("http://a.example/", 0, len(one), b"first"),
        ("http://b.example/", len(one), len(two), b"second"),
    ]


def test_records_sharing_a_member_lie_from_its_start_with_no_length_but_the_last():
    data = gzip.compress(record("http://a.example/", b"first") + record("http://b.example/", b"second"))
    assert summary(read(data)) == [("http://a.example/", 0, None, b"first"), ("http://b.example/", 0, len(data), b"second")]


def test_a_block_is_kept_as_far_as_asked_and_the_rest_skipped():
    data = record("http://a.example/", b"x" * 1000) + record("http://b.example/", b"after")
    assert [(i.block, i.block_length) for i in read(data, keep=10)] == [(b"x" * 10, 1000), (b"after", 5)]


def test_empty_members_padding_and_bare_newlines_are_read_through():
    good = gzip.compress(record("http://a.example/", b"first", newline=b"\n"))
    data = gzip.compress(b"") + good + b"\x00" * 100 + gzip.compress(b"") + b"\r\n"
    assert summary(read(data)) == [("http://a.example/", len(gzip.compress(b"")), len(good), b"first")]


def test_garbage_between_members_is_one_damage_and_reading_goes_on():
    one, two = gzip.compress(record("http://a.example/", b"first")), gzip.compress(record("http://b.example/", b"second"))
    found = summary(read(one + b"garbage, garbage" + two))
    assert found[0] == ("http://a.example/", 0, len(one), b"first")
    assert found[1][:2] == ("damage", len(one))
    assert found[1][2].startswith("not a gzip member (it starts with 'garbage, garbage\\x1f\\x8b\\x08")
    assert found[2] == ("http://b.example/", len(one) + 16, len(two), b"second")


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_record_cut_short_is_damage_at_its_start(gzipped):
    one, two = record("http://a.example/", b"first"), record("http://b.example/", b"second" * 100)
    if gzipped:
        one, two = gzip.compress(one), gzip.compress(two)
    found = read(one + two[: len(two) // 2])
    assert isinstance(found[1], Damage) and found[1].offset == len(one)
    assert "cut short" in found[1].reason and len(found) == 2


def test_a_wrong_content_length_is_damage_and_the_next_record_is_found():
    one = record("http://a.example/", b"first").replace(b"Content-Length: 5", b"Content-Length: 500000")
    two = record("http://b.example/", b"second")
    found = summary(read(one + two))
    assert found[0][0] == "damage" and found[0][1] == 0
    assert found[1] == ("http://b.example/", len(one), len(two), b"second")


@pytest.mark.parametrize(
    "head, reason",
    [
        (b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: many\r\n\r\n", "no valid Content-Length ('many')"),
        (b"WARC/1.0\r\nWARC-Type: gossip\r\nContent-Length: 0\r\n\r\n", "unknown WARC record type 'gossip'"),
        (
            b"WARC/one\r\nWARC-Type: resource\r\nContent-Length: 0\r\n\r\n",
            "no WARC record starts here (it starts with 'WARC/one')",
        ),
        (b"HTTP/1.1 200 OK\r\n\r\n", "no WARC record starts here (it starts with 'HTTP/1.1 200 OK\\r\\n\\r\\nWARC/')"),
    ],
)
def test_a_broken_head_is_damage_with_its_reason(head, reason):
    good = record("http://b.example/", b"second")
    assert summary(read(head + good)) == [("damage", 0, reason), ("http://b.example/", len(head), len(good), b"second")]


def test_a_block_quoting_a_warc_line_is_one_damaged_stretch():
    """A false record start inside a damaged stretch is not reported again."""
    bad = b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: x\r\n\r\n" + b"\nWARC/1.0\r\nnonsense\r\n\r\n" * 3
    good = record("http://b.example/", b"second")
    found = summary(read(bad + good))
    assert [f[0] for f in found] == ["damage", "http://b.example/"]


# --- the archived HTTP response ------------------------------------------------------


def test_a_response_head_is_parsed_with_folded_and_latin_1_lines():
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n charset=utf-8\r\nX-Name: caf\xe9\r\n\r\n<html>"
    response = parse_response(block)
    assert (response.status, response.content_type(), response.header("x-name"), response.payload) == (
        200,
        "text/html",
        "café",
        b"<html>",
    )


@pytest.mark.parametrize(
    "block, reason",
    [
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "no end of the HTTP headers"),
        (b"SPDY 200\r\n\r\n", "not an HTTP status line"),
    ],
)
def test_an_unreadable_response_says_why(block, reason):
    with pytest.raises(UnreadableResponse, match=reason):
        parse_response(block)


def test_a_body_is_decoded_within_the_limit_only():
    response = parse_response(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(b"a" * 5000))
    assert decoded_body(response, 5000) == b"a" * 5000
    with pytest.raises(BodyTooLarge):
        decoded_body(response, 4999)


def test_a_payload_kept_in_part_is_too_large():
    response = parse_response(b"HTTP/1.1 200 OK\r\n\r\n<html>", complete=False)
    with pytest.raises(BodyTooLarge):
        decoded_body(response, 1 << 20)


def test_chunks_are_joined_and_an_unchunked_body_kept_as_it_is():
    assert dechunked(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n") == b"hello world"
    assert dechunked(b"<html>not chunked</html>") == b"<html>not chunked</html>"
    assert dechunked(b"5\r\nhello\r\n6\r\n wor") == b"hello wor"  # cut short: what it holds
