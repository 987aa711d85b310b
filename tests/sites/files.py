"""A folder served as a site's fallback, with single-range `Range: bytes=a-b` support (206,
Content-Range, 416) as data.commoncrawl.org serves WARC files."""

from __future__ import annotations

from pathlib import Path

from .server import NOT_FOUND, Answer, Handler


class Files:
    """The route for every path the site's routes do not name: the file at that path under folder,
    or 404. Records the Range header of each file request (None without one); with honour_range
    False it answers every request with the whole file, as servers without Range support do."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.honour_range = True
        self.ranges: list[str | None] = []

    def __call__(self, handler: Handler, times: int) -> Answer:
        path = handler.path.split("?")[0]
        file = self.folder / path.lstrip("/")
        if ".." in path or not file.is_file():
            return NOT_FOUND
        self.ranges.append(handler.headers.get("Range"))
        return Answer(200, file.read_bytes(), (("Content-Type", "application/octet-stream"),), ranges=self.honour_range)
