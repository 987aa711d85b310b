"""CSV cells a spreadsheet would run as formulas, made inert: one rule for every CSV clippings writes or serves.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (CSV or formula injection); a headline or a URL from the web may
start that way on purpose. Such a cell gets one apostrophe in front, which spreadsheets read as
"text" and do not show. A plain number (`-5`, `+1.5e3`) is left alone: it cannot run. A cell that
starts with apostrophes followed by one of those characters gets one more, so that `restore`
gives every raw value back exactly: it removes the first apostrophe of any cell that starts with
an apostrophe followed, after any further apostrophes, by one of them.
"""

from __future__ import annotations

import re

TRIGGERS = "=+-@\t\r"
NUMBER_MAX_CHARS = 64  # a longer "number" is not one a spreadsheet would take as such
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_NEUTRALISED = re.compile(r"'(?='*[=+\-@\t\r])")


def neutralise(value: str) -> str:
    """The cell as a spreadsheet may open it: an apostrophe in front of a would-be formula."""
    unquoted = value.lstrip("'")
    if not unquoted or unquoted[0] not in TRIGGERS:
        return value
    if unquoted == value and is_plain_number(value):
        return value
    return "'" + value


def restore(value: str) -> str:
    """The raw value of a cell `neutralise` wrote."""
    return value[1:] if _NEUTRALISED.match(value) else value


def is_plain_number(value: str) -> bool:
    return len(value) <= NUMBER_MAX_CHARS and _NUMBER.fullmatch(value) is not None


# --- the same rule on a CSV stream, as Python's csv.writer writes it ---------------------------

_UNQUOTED_END = re.compile(rb"[,\r\n]")
_NUMBER_PREFIX = re.compile(rb"[+-][0-9]*\.?[0-9]*([eE][+-]?[0-9]*)?")
_CELL_START, _FIRST, _APOSTROPHES, _SIGN, _SIGN_QUOTE, _UNQUOTED, _QUOTED, _QUOTE = range(8)


class FormulaGuard:
    """Applies `neutralise` to every cell of a CSV byte stream fed chunk by chunk (the dialect of
    csv.writer: comma, double quote, quotes doubled, QUOTE_MINIMAL; UTF-8 or any ASCII-compatible
    encoding). Holds back at most a few bytes (a sign and the digits after it), never a cell."""

    def __init__(self) -> None:
        self.state = _CELL_START
        self.quoted = False
        self.pending = b""  # a cell's opening sign and number characters, undecided yet

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        position = 0
        while position < len(data):
            position = self._step(data, position, out)
        return bytes(out)

    def close(self) -> bytes:
        """The bytes held back, at the end of the stream (the last cell ends there)."""
        out = bytearray()
        if self.state == _SIGN:
            out += self._decided()
        elif self.state == _SIGN_QUOTE:
            out += self._decided() + b'"'
        self.state = _CELL_START
        return bytes(out)

    def _step(self, data: bytes, position: int, out: bytearray) -> int:
        """Consume from `position`; returns the next position to read."""
        state = self.state
        if state == _UNQUOTED:  # fast path: to the end of the cell
            end = _UNQUOTED_END.search(data, position)
            if end is None:
                out += data[position:]
                return len(data)
            out += data[position : end.start()]
            self.state = _CELL_START
            return end.start()
        if state == _QUOTED:
            end = data.find(b'"', position)
            if end < 0:
                out += data[position:]
                return len(data)
            out += data[position : end + 1]
            self.state = _QUOTE
            return end + 1
        byte = data[position : position + 1]
        if state == _CELL_START:
            return self._cell_start(byte, position, out)
        if state == _FIRST:
            return self._first(byte, position, out)
        if state == _APOSTROPHES:
            return self._apostrophes(byte, position, out)
        if state == _SIGN:
            return self._sign(byte, position, out)
        if state == _SIGN_QUOTE:
            return self._sign_quote(byte, position, out)
        return self._quote(byte, position, out)

    def _cell_start(self, byte: bytes, position: int, out: bytearray) -> int:
        if byte in (b",", b"\r", b"\n"):  # an empty cell, or the end of a row
            out += byte
            return position + 1
        self.quoted = byte == b'"'
        self.state = _FIRST
        if self.quoted:
            out += byte
            return position + 1
        return position

    def _first(self, byte: bytes, position: int, out: bytearray) -> int:
        """The cell's first character."""
        if self.quoted and byte == b'"':  # an empty cell, or one starting with a quote: inert
            out += byte
            self.state = _QUOTE
        elif byte == b"'":
            out += byte
            self.state = _APOSTROPHES
        elif byte in (b"+", b"-"):
            self.pending = byte
            self.state = _SIGN
        elif self._is_trigger(byte):
            out += b"'" + byte
            self.state = self._body()
        else:
            out += byte
            self.state = self._body()
        return position + 1

    def _apostrophes(self, byte: bytes, position: int, out: bytearray) -> int:
        if byte == b"'":
            out += byte
            return position + 1
        if self._ends_cell(byte):
            self.state = _QUOTE if self.quoted else _CELL_START
            if self.quoted:
                out += byte
                return position + 1
            return position
        # One more apostrophe among the leading ones: the same cell as one put in front.
        out += (b"'" if self._is_trigger(byte) or byte in (b"+", b"-") else b"") + byte
        self.state = self._body()
        return position + 1

    def _sign(self, byte: bytes, position: int, out: bytearray) -> int:
        if self.quoted and byte == b'"':
            self.state = _SIGN_QUOTE
            return position + 1
        if not self.quoted and self._ends_cell(byte):
            out += self._decided()
            self.state = _CELL_START
            return position
        candidate = self.pending + byte
        if len(candidate) <= NUMBER_MAX_CHARS and _NUMBER_PREFIX.fullmatch(candidate):
            self.pending = candidate
            return position + 1
        out += b"'" + self.pending  # not a plain number: a formula to a spreadsheet
        self.pending = b""
        self.state = self._body()
        return position

    def _sign_quote(self, byte: bytes, position: int, out: bytearray) -> int:
        if byte == b'"':  # a doubled quote: the cell goes on, and is no number
            out += b"'" + self.pending + b'""'
            self.pending = b""
            self.state = _QUOTED
            return position + 1
        out += self._decided() + b'"'
        self.state = _CELL_START
        return position

    def _quote(self, byte: bytes, position: int, out: bytearray) -> int:
        """After a quote inside a quoted cell: a doubled quote, or the cell's end."""
        if byte == b'"':
            out += byte
            self.state = _QUOTED
            return position + 1
        self.state = _CELL_START
        return position

    def _decided(self) -> bytes:
        cell, self.pending = self.pending, b""
        return cell if is_plain_number(cell.decode("ascii")) else b"'" + cell

    def _is_trigger(self, byte: bytes) -> bool:
        # Unquoted, a carriage return ends the row: csv.writer quotes any cell that holds one.
        return byte in (b"=", b"@", b"\t", b"+", b"-") or (self.quoted and byte == b"\r")

    def _ends_cell(self, byte: bytes) -> bool:
        return byte == b'"' if self.quoted else byte in (b",", b"\r", b"\n")

    def _body(self) -> int:
        return _QUOTED if self.quoted else _UNQUOTED
