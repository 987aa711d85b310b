"""CDX index queries (the Wayback Machine's, pywb's, Common Crawl's): build them, read both answer dialects.

Two dialects answer `output=json`: the Wayback Machine's is one JSON array of rows with a
header row first (and, with showResumeKey, an empty row then the resume key); pywb's and
Common Crawl's is one JSON object per line. A page count (`showNumPages=true`) is a bare
number from the Wayback Machine, `{"pages": N, ...}` from a paged pywb index; a server without
paging (pywb over plain CDXJ) answers it with its index lines, unfiltered, so the query is sent
again without it. read_answer() tells them apart, so the spiders need no setting for it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

WAYBACK = "wayback"  # the Wayback Machine's CDX server (JSON arrays, resume keys)
PYWB = "pywb"  # pywb and Common Crawl's index server (JSON lines)

# Field names differ by dialect; `fl` must use the server's own (pywb drops names it does not know).
FIELDS = {
    WAYBACK: ("urlkey", "timestamp", "original", "mimetype", "statuscode"),
    PYWB: ("urlkey", "timestamp", "url", "mime", "status", "filename", "offset", "length"),
}
_ALIASES = {"original": "url", "mimetype": "mime", "statuscode": "status"}
# Index blocks (about 3,000 lines each) a page: the Wayback Machine's default, 50, makes answers of
# 20 MB and more (DOWNLOAD_MAXSIZE); 5 is Common Crawl's default. Sent with the page count and
# every page alike, as both servers require; pywb over plain CDXJ ignores it.
PAGE_SIZE = 5
_TIMESTAMP = re.compile(r"^\d{4,14}$")


class CdxError(Exception):
    """A CDX server's answer that cannot be read as captures or a page count."""


@dataclass(frozen=True)
class Capture:
    """One line of a CDX index: a capture of the original URL at a time."""

    url: str  # the original URL, as the archive recorded it
    timestamp: str  # YYYYMMDDhhmmss, UTC
    status: int | None = None
    mime: str = ""
    urlkey: str = ""
    filename: str | None = None  # Common Crawl: the WARC file holding the record
    offset: int | None = None
    length: int | None = None

    @property
    def archived_at(self) -> str:
        """The capture time as ISO 8601 UTC, the form of every time in the archive."""
        return timestamp_iso(self.timestamp)

    @property
    def key(self) -> str:
        """What makes two captures the same page: the SURT key when the index gives one."""
        return self.urlkey or self.url


@dataclass
class Answer:
    """What one CDX response said."""

    dialect: str
    captures: list[Capture] = field(default_factory=list)
    pages: int | None = None  # set when the answer is a page count
    resume_key: str | None = None  # the Wayback Machine: more captures follow from this key


@dataclass(frozen=True)
class Query:
    """A capture listing: one URL (exact, prefix, host or domain match) over a time range."""

    endpoint: str
    url: str
    match_type: str = "exact"
    start: str = ""  # YYYYMMDD (or any 1-14 digit prefix), inclusive
    end: str = ""
    html_only: bool = True
    # urlkey: one capture per URL (the first in the range); timestamp:8: one a day; "": all.
    collapse: str = "urlkey"

    def page_count_url(self) -> str:
        """The first request: a page count where the server pages, the captures where it does not."""
        return self._url({"showNumPages": "true"})

    def page_url(self, dialect: str, page: int | None = None, resume_key: str | None = None) -> str:
        extra = {"fl": ",".join(FIELDS[dialect])}
        if page is not None:
            extra["page"] = str(page)
        if dialect == WAYBACK:
            extra["showResumeKey"] = "true"
            if resume_key:
                extra["resumeKey"] = resume_key
        return self._url(extra)

    def _url(self, extra: dict[str, str]) -> str:
        params: list[tuple[str, str]] = [("url", self.url), ("matchType", self.match_type), ("output", "json")]
        params += [(name, value) for name, value in (("from", self.start), ("to", self.end)) if value]
        params.append(("pageSize", str(PAGE_SIZE)))
        # statuscode/mimetype: the Wayback Machine's names, which pywb reads as aliases.
        params.append(("filter", "statuscode:200"))
        if self.html_only:
            params.append(("filter", "mimetype:text/html"))
        if self.collapse:
            params.append(("collapse", self.collapse))
        params += list(extra.items())
        separator = "&" if "?" in self.endpoint else "?"
        return f"{self.endpoint}{separator}{urlencode(params)}"


def read_answer(body: bytes) -> Answer:
    """The captures, page count or resume key in a CDX response, whichever dialect it is in."""
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        raise CdxError(f"not a CDX answer (not UTF-8: {error.reason})") from None
    if not text:
        return Answer(PYWB)
    if text.isdigit():
        return Answer(WAYBACK, pages=int(text))
    if text.startswith("["):
        return _read_array(text)
    return _read_lines(text)


def _read_array(text: str) -> Answer:
    """The Wayback Machine's JSON array: header row, capture rows, then [] and [resume key]."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as error:
        raise CdxError(f"not a CDX answer (broken JSON array: {error.msg} at line {error.lineno})") from None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise CdxError("not a CDX answer (a JSON array, but not of rows)")
    answer = Answer(WAYBACK)
    if not rows:
        return answer
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        answer.resume_key = str(rows[-1][0])
        rows = rows[:-2]
    header, *lines = rows
    for line in lines:
        if len(line) != len(header):
            raise CdxError(f"not a CDX answer (a row of {len(line)} fields under a header of {len(header)})")
        answer.captures.append(_capture(dict(zip(header, line))))
    return answer


def _read_lines(text: str) -> Answer:
    """pywb's and Common Crawl's JSON lines (or CDXJ, `urlkey timestamp {json}`), or a page count."""
    answer = Answer(PYWB)
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        record = _json_line(line, number)
        if "pages" in record and "url" not in record and "original" not in record:
            answer.pages = _whole_number(record["pages"], "pages")
            continue
        answer.captures.append(_capture(record))
    return answer


def _json_line(line: str, number: int) -> dict:
    if not line.startswith("{"):  # CDXJ: the JSON follows the key and the timestamp
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[2].startswith("{"):
            raise CdxError(f"not a CDX answer (line {number} is neither JSON nor CDXJ: {line[:80]!r})")
        record = {"urlkey": parts[0], "timestamp": parts[1], **_json_object(parts[2], number)}
        return record
    return _json_object(line, number)


def _json_object(text: str, number: int) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise CdxError(f"not a CDX answer (line {number}: {error.msg})") from None
    if not isinstance(value, dict):
        raise CdxError(f"not a CDX answer (line {number} is not a JSON object)")
    return value


def _capture(record: dict) -> Capture:
    fields = {_ALIASES.get(name, name): value for name, value in record.items()}
    url, timestamp = str(fields.get("url") or ""), str(fields.get("timestamp") or "")
    if not url or not _TIMESTAMP.match(timestamp):
        raise CdxError(f"not a CDX answer (a capture without url or timestamp: {record!r:.120})")
    status = str(fields.get("status") or "")
    return Capture(
        url=url,
        timestamp=timestamp.ljust(14, "0"),
        status=int(status) if status.isdigit() else None,
        mime=str(fields.get("mime") or ""),
        urlkey=str(fields.get("urlkey") or ""),
        filename=fields.get("filename") or None,
        offset=_optional_number(fields.get("offset"), "offset"),
        length=_optional_number(fields.get("length"), "length"),
    )


def _optional_number(value, name: str) -> int | None:
    return None if value in (None, "", "-") else _whole_number(value, name)


def _whole_number(value, name: str) -> int:
    text = str(value)
    if not text.isdigit():
        raise CdxError(f"not a CDX answer ({name} {value!r} is not a whole number)")
    return int(text)


def timestamp_iso(timestamp: str) -> str:
    """A 14-digit CDX timestamp (UTC) as ISO 8601: 20171016093000 -> 2017-10-16T09:30:00+00:00."""
    moment = dt.datetime.strptime(timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S")
    return moment.replace(tzinfo=dt.timezone.utc).isoformat(timespec="seconds")
