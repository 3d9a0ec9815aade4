"""Files nobody should have to analyse, shared by the engine, CLI and server bad-input tests.

Each case is bytes as they would sit on disk, with the codes the engine must
still report on them (or the PX000 reason it must skip them with). The
engine tests run every case through ``analyze``, the CLI tests through
``phxguard check`` and the server tests through a real client (as the text an
editor would send: invalid bytes replaced by U+FFFD, as editors decode them).
"""

from __future__ import annotations

from dataclasses import dataclass

# Three findings on three lines, so positions after odd bytes can be checked.
BASE = b"""defmodule App.Worker do
  def run(params) do
    key = String.to_atom(params["k"])
    GenServer.call(:worker, key, :infinity)
    :erlang.binary_to_term(params["b"])
  end
end
"""
BASE_CODES = ("OT002", "OT003", "OT004")
DEPTH = 5000


@dataclass(frozen=True)
class BadFile:
    """One odd file: its bytes, where it lives, and what analysing it must give."""

    name: str
    source: bytes
    # Codes that must be among the findings (the PX000 skip, if any, is checked separately).
    codes: tuple[str, ...] = BASE_CODES
    # Substring of the PX000 "analysis skipped: ..." reason; None: analysed normally.
    skipped: str | None = None
    # Takes seconds (the 10 MB file, the time budget): run with one client only.
    slow: bool = False
    path: str = "lib/app/worker.ex"

    @property
    def text(self) -> str:
        """What an editor shows and sends for these bytes (invalid UTF-8 as U+FFFD)."""
        return self.source.decode("utf-8", "replace")


def _before_line(line: bytes, marker: bytes = b"    key =") -> bytes:
    """BASE with ``line`` inserted before the line starting with ``marker``."""
    at = BASE.index(marker)
    return BASE[:at] + line + BASE[at:]


def _nested(open_: str, inner: str, close: str) -> bytes:
    body = open_ * DEPTH + inner + close * DEPTH
    return (
        "defmodule App.Deep do\n  def run(params) do\n    value = "
        + body
        + "\n    String.to_atom(params)\n  end\nend\n"
    ).encode()


def _deep_ifs() -> bytes:
    # A call whose rule climbs its parents (String.to_atom's; the Ecto rules' Repo.all no
    # longer does): each parent step walks from the root, so this one exceeds the budget.
    body = "if x do\n" * DEPTH + "String.to_atom(y)\n" + "end\n" * DEPTH
    return (
        "defmodule App.Deep do\n  def run(x) do\n    Enum.map(x, fn y -> "
        + body
        + " end)\n  end\nend\n"
    ).encode()


def _ten_megabytes() -> bytes:
    chunk = b"  def f%d(params), do: String.to_atom(params)\n"
    lines = [b"defmodule App.Generated do\n"]
    size = 0
    n = 0
    while size < 10_000_000:
        line = chunk % n
        lines.append(line)
        size += len(line)
        n += 1
    lines.append(b"end\n")
    return b"".join(lines)


def _mixed_line_breaks() -> bytes:
    lines = BASE.split(b"\n")
    breaks = [b"\r\n", b"\r", b"\n"]
    return b"".join(line + breaks[i % 3] for i, line in enumerate(lines[:-1]))


_PARAGRAPH = "\u2028\u2029\u0085"

CASES: tuple[BadFile, ...] = (
    BadFile("invalid-utf8-in-string", _before_line(b'    label = "caf\xe9 \xff\xfe ok"\n')),
    BadFile("invalid-utf8-in-comment", _before_line(b"    # r\xe9sum\xe9 \x80\x80\xbf\n")),
    BadFile("invalid-utf8-in-identifier", _before_line(b"    f\xe9o = 1\n")),
    BadFile("invalid-utf8-after-code-on-a-line", BASE.replace(b"(params) do", b"(params) do \xff")),
    BadFile("truncated-2-byte-sequence-at-eof", BASE + b"# caf\xc3"),
    BadFile("truncated-3-byte-sequence-at-eof", BASE + b"# \xe2\x82"),
    BadFile("truncated-4-byte-sequence-at-eof", BASE + b'x = "\xf0\x9f\x98'),
    BadFile("nul-in-string", _before_line(b'    nul = "a\x00b"\n')),
    BadFile("nul-in-comment", _before_line(b"    # a\x00b\n")),
    BadFile("crlf", BASE.replace(b"\n", b"\r\n")),
    # Elixir (and its tree-sitter grammar) ends lines at \n only: a lone-CR file is one long
    # line of broken code to the parser, though editors show it as lines.
    BadFile("lone-cr", BASE.replace(b"\n", b"\r"), codes=("OT002",)),
    BadFile("mixed-line-breaks", _mixed_line_breaks()),
    BadFile(
        "line-separators-in-strings",
        _before_line(f'    s = "a{_PARAGRAPH}b"\n    t = ~s(x\u2028y)\n'.encode()),
    ),
    BadFile("line-separators-in-comment", _before_line(f"    # a{_PARAGRAPH}b\n".encode())),
    BadFile("non-bmp-characters", _before_line('    s = "😀𝄞" # 😀\n'.encode())),
    BadFile("bom-then-code", b"\xef\xbb\xbf" + BASE),
    BadFile("empty", b"", codes=()),
    BadFile("only-a-newline", b"\n", codes=()),
    BadFile("only-crlf", b"\r\n", codes=()),
    BadFile("only-a-bom", b"\xef\xbb\xbf", codes=()),
    BadFile(
        "binary-content",
        bytes(range(256)) * 64,
        codes=(),
        skipped="binary content",
        path="lib/app/blob.ex",
    ),
    BadFile("nested-lists", _nested("[", "1", "]"), codes=("OT002",)),
    BadFile("nested-maps", _nested("%{a: ", "1", "}"), codes=("OT002",)),
    BadFile("nested-tuples", _nested("{", "1", "}"), codes=("OT002",)),
    BadFile("nested-calls", _nested("f(", "1", ")"), codes=("OT002",)),
    BadFile("nested-fns", _nested("fn y -> ", "1", " end"), codes=("OT002",)),
    BadFile("nested-parens", _nested("(", "1", ")"), codes=("OT002",)),
    BadFile("nested-operators", _nested("1 + ", "1", ""), codes=("OT002",)),
    BadFile("nested-ifs", _deep_ifs(), codes=(), skipped="longer than the 3000 ms", slow=True),
    BadFile("ten-megabytes", _ten_megabytes(), codes=(), skipped="over the 2.0 MB", slow=True),
)
FAST = tuple(case for case in CASES if not case.slow)
BY_NAME = {case.name: case for case in CASES}
