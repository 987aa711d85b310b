"""The loopback site package itself: routes served as data, a 404, a folder with ranges, hostile
behaviours, and the hook that acts when a given request arrives."""

from __future__ import annotations

import http.client
import threading
import urllib.error
import urllib.request

import pytest

from .sites import NOT_FOUND, Answer, Files, Wayback, drip_body, hang, html, reset, truncated


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_site_serves_a_route_given_as_data_and_logs_it(serve_site):
    site = serve_site({"/story/": html("<p>hello</p>"), "/gone/": Answer(410, b"gone")})
    status, headers, body = get(site.url("/story/?x=1"))
    assert (status, headers["Content-Type"], body) == (200, "text/html; charset=utf-8", b"<p>hello</p>")
    assert get(site.url("/gone/"))[0] == 410
    assert site.requests == ["/story/", "/gone/"] and site.asked("/story/") == 1


def test_site_answers_404_for_a_path_it_does_not_serve(serve_site):
    site = serve_site({"/story/": html("<p>hello</p>")})
    assert get(site.url("/elsewhere/"))[::2] == (404, NOT_FOUND.body)


def test_site_serves_a_folder_with_ranges(serve_site, tmp_path):
    (tmp_path / "data.bin").write_bytes(b"0123456789")
    files = Files(tmp_path)
    site = serve_site(fallback=files)
    status, headers, body = get(site.url("/data.bin"), {"Range": "bytes=2-5"})
    assert (status, headers["Content-Range"], body) == (206, "bytes 2-5/10", b"2345")
    assert get(site.url("/data.bin"), {"Range": "bytes=20-"})[0] == 416
    assert get(site.url("/missing.bin"))[0] == 404
    files.honour_range = False
    assert get(site.url("/data.bin"), {"Range": "bytes=2-5"})[::2] == (200, b"0123456789")
    assert files.ranges == ["bytes=2-5", "bytes=20-", "bytes=2-5"]


def test_site_cuts_a_truncated_answer_short(serve_site):
    site = serve_site({"/cut/": truncated(b"x" * 1000)})
    with pytest.raises(http.client.IncompleteRead) as cut:
        urllib.request.urlopen(site.url("/cut/"), timeout=10).read()
    assert len(cut.value.partial) == 500


def test_site_breaks_a_path_once_then_answers_whole(serve_site):
    site = serve_site({"/file": Answer(200, b"y" * 1000)})
    site.break_once.add("/file")
    with pytest.raises(http.client.IncompleteRead):
        urllib.request.urlopen(site.url("/file"), timeout=10).read()
    assert get(site.url("/file"))[2] == b"y" * 1000


def test_site_resets_the_connection(serve_site):
    site = serve_site({"/reset/": reset})
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, urllib.error.URLError)):
        urllib.request.urlopen(site.url("/reset/"), timeout=10).read()


def test_site_keeps_a_hanging_client_waiting(serve_site):
    site = serve_site({"/slow/": hang})
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(site.url("/slow/"), timeout=0.5).read()


def test_site_drips_a_body_no_read_of_which_times_out(serve_site):
    """A byte every 0.1 s: a read timeout of 0.5 s never ends it (only a total deadline would)."""
    site = serve_site({"/slow/": drip_body(b"z" * 12)})
    assert urllib.request.urlopen(site.url("/slow/"), timeout=0.5).read() == b"z" * 12


def test_site_acts_once_on_the_request_asked_for(serve_site):
    site = serve_site({"/a/": html("a"), "/b/": html("b")})
    acted: list[int] = []
    with site.when(lambda number, path: number == 2, lambda: acted.append(len(site.requests)) or True):
        assert get(site.url("/a/"))[0] == 200
        with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError)):
            urllib.request.urlopen(site.url("/b/"), timeout=10)  # dropped unanswered
        assert get(site.url("/b/"))[0] == 200  # once only
    assert acted == [2]


def test_site_holds_a_path_until_released(serve_site):
    site = serve_site({"/held/": html("late")})
    site.holds["/held/"] = gate = threading.Event()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(get(site.url("/held/"))[2]))
    reader.start()
    reader.join(0.5)
    assert got == [] and site.asked("/held/") == 1
    gate.set()
    reader.join(10)
    assert got == [b"late"]


def test_wayback_stand_in_answers_cdx_then_replays(serve_site):
    class Page:
        url, captured, content_type, body = "http://a.example/x", "20171016090000", "text/html", b"<p>x</p>"

    site = serve_site(fallback=Wayback([Page()], retry_after=3))
    status, headers, _ = get(site.url("/cdx/search/cdx?url=a.example/x&output=json"))
    assert (status, headers["Retry-After"]) == (429, "3")
    assert get(site.url("/cdx/search/cdx?url=a.example/x&output=json"))[2].startswith(b'[["urlkey"')
    status, headers, body = get(site.url("/web/20171016id_/http://a.example/x"))
    assert (status, headers["Memento-Datetime"], body) == (200, "Mon, 16 Oct 2017 09:00:00 GMT", b"<p>x</p>")
