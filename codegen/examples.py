"""A tolerant reader for the request/response examples of the official catalogue.

The examples are JSON-ish rather than JSON: ``#`` comment lines, single-quoted strings,
bare keys, trailing commas, missing commas between members, raw newlines inside strings,
and several messages in one text (a real-time example holds the REG answer and a REAL frame).
``parse_examples`` returns every top-level message it finds, as plain Python values
(dict, list, str, int, float, bool, None).
"""

from __future__ import annotations

__all__ = ["ExampleSyntaxError", "parse_examples"]

_BARE = {"null": None, "None": None, "true": True, "True": True, "false": False, "False": False}
_STOP = set(",:{}[]\"'#") | {" ", "\t", "\r", "\n"}


class ExampleSyntaxError(ValueError):
    """The text holds something that cannot be read even tolerantly."""


def parse_examples(text: str) -> list[object]:
    """Every top-level object or array in ``text``, in order.

    Anything outside a top-level ``{...}`` / ``[...]`` (comments, headings) is skipped.
    """
    parser = _Parser(text)
    out: list[object] = []
    while True:
        parser.skip_to_value()
        if parser.at_end():
            return out
        out.append(parser.value())


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def at_end(self) -> bool:
        return self.i >= len(self.s)

    def fail(self, what: str) -> ExampleSyntaxError:
        line = self.s.count("\n", 0, self.i) + 1
        return ExampleSyntaxError(f"{what} at line {line}: {self.s[self.i : self.i + 30]!r}")

    def skip_to_value(self) -> None:
        """Top level: skip to the next ``{`` or ``[`` that starts a line's content."""
        while self.i < len(self.s):
            self.skip_blank()
            if self.i >= len(self.s) or self.s[self.i] in "{[":
                return
            nl = self.s.find("\n", self.i)
            self.i = len(self.s) if nl < 0 else nl + 1

    def skip_blank(self) -> None:
        """Whitespace and ``#`` / ``//`` comments running to the end of the line."""
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c in " \t\r\n\ufeff\xa0":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                nl = s.find("\n", self.i)
                self.i = len(s) if nl < 0 else nl + 1
            else:
                return

    def skip_separators(self) -> None:
        while True:
            self.skip_blank()
            if self.i < len(self.s) and self.s[self.i] == ",":
                self.i += 1
            else:
                return

    def value(self) -> object:
        self.skip_blank()
        if self.at_end():
            raise self.fail("value expected")
        c = self.s[self.i]
        if c == "{":
            return self.obj()
        if c == "[":
            return self.arr()
        if c in "\"'":
            return self.string()
        return self.bare()

    def obj(self) -> dict[str, object]:
        self.i += 1
        out: dict[str, object] = {}
        while True:
            self.skip_separators()
            if self.at_end():
                raise self.fail("unterminated object")
            if self.s[self.i] == "}":
                self.i += 1
                return out
            key = self.value()
            self.skip_blank()
            if self.at_end() or self.s[self.i] != ":":
                raise self.fail("':' expected")
            self.i += 1
            self.skip_blank()
            if not self.at_end() and self.s[self.i] in ",}":
                val: object = None  # `"key": ,` -> no value
            else:
                val = self.value()
            out[str(key)] = val

    def arr(self) -> list[object]:
        self.i += 1
        out: list[object] = []
        while True:
            self.skip_separators()
            if self.at_end():
                raise self.fail("unterminated array")
            if self.s[self.i] == "]":
                self.i += 1
                return out
            out.append(self.value())

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        buf: list[str] = []
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c == quote:
                self.i += 1
                return "".join(buf)
            if c == "\\" and self.i + 1 < len(s):
                nxt = s[self.i + 1]
                if nxt == "u" and self.i + 6 <= len(s):
                    try:
                        buf.append(chr(int(s[self.i + 2 : self.i + 6], 16)))
                        self.i += 6
                        continue
                    except ValueError:
                        pass
                buf.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
                self.i += 2
                continue
            buf.append(c)
            self.i += 1
        raise self.fail("unterminated string")

    def bare(self) -> object:
        start = self.i
        s = self.s
        while self.i < len(s) and s[self.i] not in _STOP:
            self.i += 1
        word = s[start : self.i]
        if not word:
            raise self.fail("unexpected character")
        if word in _BARE:
            return _BARE[word]
        try:
            return int(word)
        except ValueError:
            pass
        try:
            return float(word)
        except ValueError:
            return word
