"""Datasette's CSV downloads with would-be spreadsheet formulas made inert (clippings/csvcells.py).

Datasette 0.65 writes CSV in its own view, with no hook on the values, so the rule is applied
to the response as it streams: every `.csv` page, tables, rows, SQL and canned queries alike,
streamed (`_stream=on`) or not, holding back a few bytes at most.
"""

from __future__ import annotations

import re

from datasette import hookimpl

from clippings.csvcells import FormulaGuard

_CSV_PATH = re.compile(r"\.csv$")
_CSV_TYPES = (b"text/plain", b"text/csv")  # Datasette's, without and with ?_dl=1; _trace=1 is HTML


@hookimpl
def asgi_wrapper(datasette):
    return guard_csv_downloads


def guard_csv_downloads(app):
    async def guarded(scope, receive, send):
        if scope["type"] != "http" or not _CSV_PATH.search(scope.get("path", "")):
            return await app(scope, receive, send)
        guard: FormulaGuard | None = None

        async def send_guarded(message):
            nonlocal guard
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(_CSV_TYPES):
                    guard = FormulaGuard()
                    # The body grows by an apostrophe per guarded cell.
                    message = {
                        **message,
                        "headers": [(k, v) for k, v in message.get("headers") or [] if k.lower() != b"content-length"],
                    }
            elif message["type"] == "http.response.body" and guard is not None:
                body = guard.feed(message.get("body", b""))
                if not message.get("more_body"):
                    body += guard.close()
                message = {**message, "body": body}
            await send(message)

        return await app(scope, receive, send_guarded)

    return guarded
