"""Document store: the bytes mirror and incremental tree follow the client exactly.

The "client" here is a plain Python string edited by code point; ranges are
computed with the test's own line model (``tests.server.lsp_client``), not the
server's.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.parsing import parse_elixir
from analyzers.text import LineIndex
from server.lsp.documents import DocumentStore, TextChange
from tests.server.lsp_client import position_of

URI = "file:///ws/priv/repo/migrations/20240101000000_m.exs"
PATH = "/ws/priv/repo/migrations/20240101000000_m.exs"

SEED = (
    "defmodule MyApp.Repo.Migrations.M do\n"
    "  use Ecto.Migration\n"
    "\n"
    "  def change do\n"
    "    # café 😀\n"
    "    create index(:users, [:email])\r\n"
    '    execute "SELECT 1 \u2028 -- x"\n'
    "    alter table(:posts) do\n"
    "      add :meta, :json\n"
    "    end\n"
    "  end\n"
    "end\n"
)

FRAGMENTS = [
    "x",
    " ",
    "\n",
    "\r\n",
    "\r",
    "é",
    "😀",
    "\u2028",
    "\x0c",
    "do\n",
    "end\n",
    "create index(:users, [:email])\n",
    "remove :legacy\n",
    "add :data, :json\n",
    "(",
    ")",
    '"',
    "# ",
    "def up do\n",
    ", concurrently: true",
]


def _boundaries(text: str) -> list[int]:
    """Code point indexes a client can address: everywhere but between a CR and its LF."""
    return [
        i for i in range(len(text) + 1) if not (text[i - 1 : i] == "\r" and text[i : i + 1] == "\n")
    ]


def _range(text: str, start: int, end: int, encoding: str) -> tuple[int, int, int, int]:
    a = position_of(text, start, encoding)
    b = position_of(text, end, encoding)
    return a.line, a.character, b.line, b.character


@st.composite
def _edit(draw: st.DrawFn, text: str) -> tuple[int, int, str]:
    points = _boundaries(text)
    start = draw(st.sampled_from(points))
    end = draw(st.sampled_from([p for p in points if p >= start][:40]))
    inserted = "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=3)))
    return start, end, inserted


def _same_tree_as_fresh_parse(store: DocumentStore, text: str) -> None:
    doc = store.get(URI)
    assert doc is not None and doc.tree is not None
    assert doc.source == text.encode("utf-8")
    # The line index is updated from each edit: it must stay what a fresh one would be.
    assert doc.index.source is doc.source
    assert doc.index.line_starts == LineIndex(doc.source).line_starts
    fresh = parse_elixir(text.encode("utf-8"))
    if not doc.tree.root_node.has_error and not fresh.root_node.has_error:
        assert str(doc.tree.root_node) == str(fresh.root_node)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-32"]),
    batches=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_random_edits_keep_mirror_and_tree_in_step(
    encoding: str, batches: int, data: st.DataObject
) -> None:
    store = DocumentStore()
    store.open(URI, PATH, "elixir", 1, SEED)
    text = SEED
    for version in range(2, batches + 2):
        changes: list[TextChange] = []
        for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
            if data.draw(st.integers(min_value=0, max_value=15)) == 0:
                text = data.draw(st.sampled_from([SEED, "", "end\r\n"]))
                changes.append(TextChange(text))
                continue
            start, end, inserted = data.draw(_edit(text))
            # Each range refers to the text left by the previous change of the batch.
            changes.append(TextChange(inserted, _range(text, start, end, encoding)))
            text = text[:start] + inserted + text[end:]
        doc = store.change(URI, version, changes, encoding)  # type: ignore[arg-type]
        if changes[-1].range is not None:
            # Kept up to date by the change itself, not rebuilt when next asked for.
            assert doc is not None and doc._index is not None and doc._index.source is doc.source
        _same_tree_as_fresh_parse(store, text)
        doc = store.get(URI)
        assert doc is not None and doc.version == version


def test_full_text_change_replaces_everything() -> None:
    store = DocumentStore()
    store.open(URI, PATH, "elixir", 1, SEED)
    store.change(URI, 2, [TextChange("x = 1\n")], "utf-16")
    _same_tree_as_fresh_parse(store, "x = 1\n")


@pytest.mark.parametrize(
    ("change_range", "expected"),
    [
        ((7, 0, 9, 9), "ab\ncd\nX"),  # past the last line: appended
        ((0, 10, 0, 12), "abX\ncd\n"),  # past a line's end: at its end
        ((1, 2, 0, 1), "aX\n"),  # reversed: swapped
    ],
)
def test_invalid_ranges_clamp_and_are_logged(
    change_range: tuple[int, int, int, int], expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = DocumentStore()
    store.open(URI, PATH, "elixir", 1, "ab\ncd\n")
    store.change(URI, 2, [TextChange("X", change_range)], "utf-16")
    _same_tree_as_fresh_parse(store, expected)
    assert any(r.levelname == "WARNING" for r in caplog.records)


def test_change_to_an_unopened_document_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    store = DocumentStore()
    assert store.change("file:///nowhere.exs", 2, [TextChange("x", (0, 0, 0, 0))], "utf-8") is None
    assert "not open" in caplog.text
    assert len(store) == 0


def test_tree_is_reparsed_fresh_when_syntax_errors_clear() -> None:
    store = DocumentStore()
    store.open(URI, PATH, "elixir", 1, "defmodule A do\n  def f do\n    :ok\nend\n")
    doc = store.get(URI)
    assert doc is not None and doc.has_syntax_errors
    store.change(URI, 2, [TextChange("  end\n", (3, 0, 3, 0))], "utf-8")
    assert not doc.has_syntax_errors
    _same_tree_as_fresh_parse(store, "defmodule A do\n  def f do\n    :ok\n  end\nend\n")


def test_errors_clearing_reparse_from_the_last_error_free_tree_not_from_scratch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Open a bracket, type inside it, close it: the tree after the closing keystroke comes
    # from the tree before the bracket was opened, and equals a fresh parse.
    text = "defmodule A do\n  def f(x) do\n    g(x)\n  end\n\n  def h, do: 1\nend\n"
    store = DocumentStore()
    doc = store.open(URI, PATH, "elixir", 1, text)
    full: list[int] = []
    original = DocumentStore._full_parse
    monkeypatch.setattr(
        DocumentStore, "_full_parse", lambda self, d: (full.append(1), original(self, d))[1]
    )
    typed = "\n    y = k(x, z"
    line, column = 2, len("    g(x)")
    for version, char in enumerate(typed, start=2):
        line, column = (line + 1, 0) if char == "\n" else (line, column)
        store.change(URI, version, [TextChange(char, (line, column, line, column))], "utf-8")
        column += 0 if char == "\n" else 1
    assert doc.has_syntax_errors and doc.clean_base is not None
    store.change(URI, 99, [TextChange(")", (line, column, line, column))], "utf-8")
    assert not doc.has_syntax_errors and doc.clean_base is None
    assert full == []
    expected = text.replace("g(x)", "g(x)" + typed + ")")
    _same_tree_as_fresh_parse(store, expected)


def test_save_adopts_the_saved_text_and_reparses() -> None:
    store = DocumentStore()
    store.open(URI, PATH, "elixir", 1, "x = 1\n")
    store.save(URI, "y = 2\n")
    _same_tree_as_fresh_parse(store, "y = 2\n")


def test_heex_documents_keep_bytes_but_no_elixir_tree() -> None:
    store = DocumentStore()
    doc = store.open("file:///ws/a.html.heex", "/ws/a.html.heex", "phoenix-heex", 1, "<div>\n")
    store.change(doc.uri, 2, [TextChange("é", (0, 5, 0, 5))], "utf-16")
    assert doc.source == "<div>é\n".encode()
    assert doc.tree is None and doc.language == "heex"


def test_only_recently_edited_documents_keep_a_tree() -> None:
    store = DocumentStore()
    store.max_trees = 2
    uris = [f"file:///ws/lib/m{n}.ex" for n in range(4)]
    docs = [store.open(uri, uri[7:], "elixir", 1, SEED) for uri in uris]
    assert [d.tree is not None for d in docs] == [False, False, True, True]
    # Editing a document without a tree parses it afresh; it displaces the least recent.
    edited = store.change(uris[0], 2, [TextChange("# top\n", (0, 0, 0, 0))], "utf-16")
    assert edited is docs[0] and edited.tree is not None
    assert str(edited.tree.root_node) == str(parse_elixir(("# top\n" + SEED).encode()).root_node)
    assert [d.tree is not None for d in docs] == [True, False, False, True]
    tree = store.ensure_tree(docs[1])
    assert tree is not None and str(tree.root_node) == str(parse_elixir(SEED.encode()).root_node)
    assert [d.tree is not None for d in docs] == [True, True, False, False]
    store.close(uris[3])
    assert store.ensure_tree(docs[2]) is not None
    assert [d.tree is not None for d in docs[:3]] == [False, True, True]
