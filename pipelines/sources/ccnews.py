"""CC-NEWS, Common Crawl's news crawl, as files to import: for each month of a range its listing,
crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz under COMMONCRAWL_DATA_URL (one path a line, relative to
the data host), and of the files listed those whose time stamp lies in the range. A file is
named after the time its capture started: CC-NEWS-YYYYMMDDHHMMSS-NNNNN.warc.gz."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.sources.downloads import DownloadError, NotFound

LISTING = "crawl-data/CC-NEWS/{year:04d}/{month:02d}/warc.paths.gz"
FILE_PATH = re.compile(r"crawl-data/CC-NEWS/(\d{4})/(\d{2})/CC-NEWS-(\d{14})-(\d{5})\.warc\.gz")
LISTING_MAX = 16 * 1024 * 1024  # inflated; a month's listing is some 50 kB
LISTING_DOWNLOAD_MAX = 4 * 1024 * 1024  # as downloaded


@dataclass
class MonthListing:
    month: str  # YYYY/MM
    url: str
    files: list[str] = field(default_factory=list)  # URLs of the files in the range
    problem: str | None = None  # why there is no listing, or what was wrong with it
    missing: bool = False  # the data host has no listing for the month (404): reported, not an error


def months(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """(year, month) of every month from start's to end's."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def listings(data_url: str, start: dt.date, end: dt.date, fetch: Callable[[str], bytes]) -> list[MonthListing]:
    """Each month's listing, read with fetch(url) -> bytes, and its files from start to end (days, UTC)."""
    base = data_url if data_url.endswith("/") else data_url + "/"
    first = dt.datetime.combine(start, dt.time.min)
    last = dt.datetime.combine(end, dt.time.max)
    found = []
    for year, month in months(start, end):
        listing = MonthListing(f"{year:04d}/{month:02d}", base + LISTING.format(year=year, month=month))
        try:
            paths = listed_paths(fetch(listing.url))
        except NotFound as error:
            listing.problem, listing.missing = f"no listing ({error})", True
        except (DownloadError, ValueError) as error:
            listing.problem = str(error)
        else:
            listing.files = [base + path for path in paths if first <= file_time(path) <= last]
        found.append(listing)
    return found


def listed_paths(data: bytes) -> list[str]:
    """The CC-NEWS file paths of a listing (gzipped or not), in order; other lines are ignored."""
    if data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            data = inflater.decompress(data, LISTING_MAX + 1)
        except zlib.error as error:
            raise ValueError(f"the listing is not readable gzip ({error})") from None
        if len(data) > LISTING_MAX:
            raise ValueError(f"the listing inflates to more than {LISTING_MAX} bytes")
    lines = data.decode("utf-8", "replace").split()
    return sorted(
        {line for line in lines if FILE_PATH.fullmatch(line) and _valid_time(line)}, key=lambda path: (file_time(path), path)
    )


def file_time(path: str) -> dt.datetime:
    """When the file's capture started, from its name."""
    return dt.datetime.strptime(FILE_PATH.fullmatch(path)[3], "%Y%m%d%H%M%S")


def _valid_time(path: str) -> bool:
    try:
        file_time(path)
    except ValueError:
        return False
    return True
