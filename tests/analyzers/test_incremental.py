"""Incremental re-analysis gives exactly the findings of a fresh analysis, and does less work."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers import incremental, units
from analyzers.config import Config
from analyzers.engine import AnalysisResult, analyze
from analyzers.incremental import IncrementalState
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts

CONTEXT = """\
defmodule MyAppWeb.Shop do
  import Ecto.Query
  alias MyApp.Repo
  alias MyApp.Shop.{Order, User}

  @doc "One user."
  def get_user(id), do: Repo.get(User, id)

  def list_owners(orders) do
    Enum.map(orders, fn order -> get_user(order.user_id) end)
  end

  def place(attrs) do
    {:ok, order} = Repo.insert(Order.changeset(%Order{}, attrs))
    Repo.update!(User.changeset(order.user, %{orders: 1}))
  end

  def search(term) do
    Repo.query("SELECT * FROM orders WHERE note = '#{term}'")
  end

  def everything do
    Repo.all(from o in Order, where: o.paid)
  end

  defp helper(x), do: x

  def checkout(order) do
    Repo.transaction(fn -> record(order) end)
  end

  defp record(order) do
    Repo.insert!(order)
    Repo.update!(order)
  end
end
"""
CONTEXT_PATH = "lib/my_app_web/shop.ex"

MIGRATIONS = """\
defmodule MyApp.Repo.Migrations.One do
  use Ecto.Migration

  def change do
    create index(:orders, [:user_id])
  end
end

defmodule MyApp.Repo.Migrations.Two do
  use Ecto.Migration

  def change do
    alter table(:orders) do
      add :note, :json
    end
  end
end

defmodule MyApp.Repo.Migrations.Three do
  use Ecto.Migration

  def change do
    rename table(:orders), :note, to: :notes
  end
end
"""
MIGRATIONS_PATH = "priv/repo/migrations/20240101000000_many.exs"
# A schema and the loads that read its associations (EC005), in one file.
SCHEMA_CONTEXT = """\
defmodule MyApp.Blog.Post do
  use Ecto.Schema

  schema "posts" do
    field :title, :string
    has_many :comments, MyApp.Blog.Comment
    belongs_to :author, MyApp.Accounts.User
  end
end

defmodule MyApp.Blog do
  import Ecto.Query
  alias MyApp.Repo
  alias MyApp.Blog.Post

  def show(id) do
    post = Repo.get!(Post, id)
    post.comments
  end

  def author(id) do
    post = Repo.get(Post, id) |> Repo.preload(:author)
    post.author
  end

  def titles(id) do
    post = Repo.one(from p in Post, where: p.id == ^id)
    {post.title, post.author}
  end
end
"""
SCHEMA_CONTEXT_PATH = "lib/my_app/blog.ex"

SNIPPETS = [
    "Repo.get(User, id)\n",
    "Enum.each(xs, fn x -> Repo.get!(User, x) end)\n",
    "Enum.map(ids, &get_user/1)\n",
    "Repo.transaction(fn -> place(attrs) end)\n",
    "Multi.run(:x, &helper/1)\n",
    "record(order)",
    "def get_order(id), do: Repo.get(Order, id)\n",
    "end\n",
    "def x do\n",
    "alias MyApp.Repo\n",
    "create index(:users, [:email])\n",
    "  ",
    "\n",
    "(",
    ")",
    "fn ",
    "#{x}",
    "é",
    "has_many :tags, MyApp.Blog.Tag\n",
    "post.author\n",
    " |> Repo.preload(:comments)",
    "post = Repo.get!(Post, id)\n",
]

CONFIG = Config()
FACTS = ProjectFacts()


def fresh(source: bytes, path: str) -> AnalysisResult:
    """A one-shot analysis, as the CLI does it."""
    return analyze(source, path, config=CONFIG, facts=FACTS)


def again(source: bytes, path: str, previous: IncrementalState | None) -> AnalysisResult:
    """An incremental analysis after an edit (the server's way)."""
    tree = parse_elixir(source)
    return analyze(
        source, path, config=CONFIG, facts=FACTS, tree=tree, previous=previous, incremental=True
    )


def edit_steps(draw: st.DrawFn, length: int) -> tuple[int, int, str]:
    """One random edit of a text of ``length`` characters: (start, end, inserted)."""
    start = draw(st.integers(0, length))
    end = draw(st.integers(start, min(length, start + draw(st.sampled_from([0, 0, 1, 3, 40])))))
    text = draw(st.sampled_from(SNIPPETS) | st.text(alphabet="abc_(){}|>.:\n ", max_size=4))
    return start, end, text


@st.composite
def edit_sequences(draw: st.DrawFn, base: str) -> list[tuple[int, int, str]]:
    """Up to eight edits applied one after the other to ``base``."""
    text = base
    edits: list[tuple[int, int, str]] = []
    for _ in range(draw(st.integers(1, 8))):
        start, end, inserted = edit_steps(draw, len(text))
        edits.append((start, end, inserted))
        text = text[:start] + inserted + text[end:]
    return edits


def _typed(base: str, edits: list[tuple[int, int, str]]) -> Iterator[bytes]:
    text = base
    for start, end, inserted in edits:
        text = text[:start] + inserted + text[end:]
        yield text.encode()


@pytest.mark.parametrize(
    ("base", "path"),
    [
        (CONTEXT, CONTEXT_PATH),
        (MIGRATIONS, MIGRATIONS_PATH),
        (SCHEMA_CONTEXT, SCHEMA_CONTEXT_PATH),
    ],
    ids=["context", "migrations", "schema_context"],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_incremental_equals_fresh_analysis(base: str, path: str, data: st.DataObject) -> None:
    edits = data.draw(edit_sequences(base))
    state = again(base.encode(), path, None).state
    for source in _typed(base, edits):
        result = again(source, path, state)
        assert result.findings == fresh(source, path).findings
        state = result.state


def test_the_fixtures_exercise_every_unit_scoped_rule() -> None:
    codes = {f.code for f in fresh(CONTEXT.encode(), CONTEXT_PATH).findings}
    assert {"EC001", "EC002", "EC003", "EC004"} <= codes
    codes = {f.code for f in fresh(MIGRATIONS.encode(), MIGRATIONS_PATH).findings}
    assert {"MG001", "MG012", "MG007"} <= codes
    codes = {f.code for f in fresh(SCHEMA_CONTEXT.encode(), SCHEMA_CONTEXT_PATH).findings}
    assert "EC005" in codes


def test_an_edit_inside_one_definition_reparses_only_the_skeleton_and_that_definition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    original = parse_elixir

    def recording(source: bytes) -> object:
        parsed.append(len(source))
        return original(source)

    state = again(CONTEXT.encode(), CONTEXT_PATH, None).state
    monkeypatch.setattr(incremental, "parse_elixir", recording)
    edited = CONTEXT.replace("defp helper(x), do: x", "defp helper(x), do: x + 1").encode()
    result = again(edited, CONTEXT_PATH, state)
    assert result.findings == fresh(edited, CONTEXT_PATH).findings
    (compact,) = parsed
    helper = len("defp helper(x), do: x + 1")
    skeleton = len(units.definition_layout(parse_elixir(edited)).skeleton(edited))
    assert compact < skeleton + helper + 10 < len(edited) / 2


def test_a_summary_from_another_definition_still_counts() -> None:
    # EC001 flags get_user(...) in list_owners because get_user reads the repo; editing
    # get_user alone (list_owners untouched) must withdraw that finding.
    source = CONTEXT.encode()
    first = again(source, CONTEXT_PATH, None)
    assert "get_user(order.user_id)" in [
        source[f.start : f.end].decode() for f in first.findings if f.code == "EC001"
    ]
    edited = CONTEXT.replace("do: Repo.get(User, id)", "do: %User{id: id}").encode()
    second = again(edited, CONTEXT_PATH, first.state)
    assert not [f for f in second.findings if f.code == "EC001"]
    back = again(source, CONTEXT_PATH, second.state)
    assert back.findings == first.findings


def test_a_summary_change_re_checks_only_the_definitions_that_mention_the_name() -> None:
    # get_user stops reading the repo: list_owners (which calls it) is re-checked with
    # the edited get_user, and no other definition is (their findings cannot depend on it).
    source = CONTEXT.encode()
    first = again(source, CONTEXT_PATH, None)
    edited = CONTEXT.replace("do: Repo.get(User, id)", "do: %User{id: id}").encode()
    second = again(edited, CONTEXT_PATH, first.state)
    assert second.findings == fresh(edited, CONTEXT_PATH).findings
    assert second.state is not None
    cache = second.state.scopes[units.DEFINITION]
    assert cache.compact is not None
    rechecked = [edited[cache.layout.spans[i][0] :].split(b"(")[0] for i in cache.compact[0]]
    assert rechecked == [b"def get_user", b"def list_owners"]


def test_a_transaction_in_another_definition_still_counts() -> None:
    # EC002 leaves record/1 alone because checkout/1 calls it in a transaction; editing
    # checkout/1 alone must bring the finding on record/1 back, and undoing it remove it.
    source = CONTEXT.encode()
    first = again(source, CONTEXT_PATH, None)
    assert [source[f.start : f.end] for f in first.findings if f.code == "EC002"] == [
        b"place(attrs)"
    ]
    edited = CONTEXT.replace("Repo.transaction(fn -> record(order) end)", "record(order)")
    second = again(edited.encode(), CONTEXT_PATH, first.state)
    assert second.findings == fresh(edited.encode(), CONTEXT_PATH).findings
    flagged = [edited.encode()[f.start : f.end] for f in second.findings if f.code == "EC002"]
    assert flagged == [b"place(attrs)", b"record(order)"]
    back = again(source, CONTEXT_PATH, second.state)
    assert back.findings == first.findings


def test_moved_findings_keep_their_fixes_pointing_at_the_same_text() -> None:
    source = MIGRATIONS.encode()
    first = again(source, MIGRATIONS_PATH, None)
    edited = MIGRATIONS.replace("def change do\n    create", "def change do\n\n\n    create", 1)
    second = again(edited.encode(), MIGRATIONS_PATH, first.state)
    assert second.findings == fresh(edited.encode(), MIGRATIONS_PATH).findings
    moved = [f for f in second.findings if f.code == "MG012"]
    assert moved and edited.encode()[moved[0].start : moved[0].end] == b":json"


def test_a_changed_config_or_failed_rule_starts_again() -> None:
    state = again(CONTEXT.encode(), CONTEXT_PATH, None).state
    assert state is not None
    assert not state.matches(CONTEXT_PATH, Config(select=("EC",)), FACTS, state.codes)
    assert not state.matches(CONTEXT_PATH, CONFIG, ProjectFacts(), state.codes)
    assert state.matches(CONTEXT_PATH, CONFIG, FACTS, state.codes)


def test_typing_into_one_definition_matches_fresh_analysis_at_every_keystroke() -> None:
    # Consecutive edits of one function re-parse the last compact source incrementally.
    anchor = CONTEXT.index("    Repo.update!(User.changeset")
    typed = "Enum.each(xs, fn x -> Repo.get!(User, x) end)\n    "
    state = again(CONTEXT.encode(), CONTEXT_PATH, None).state
    for end in range(1, len(typed) + 1):
        source = (CONTEXT[:anchor] + typed[:end] + CONTEXT[anchor:]).encode()
        result = again(source, CONTEXT_PATH, state)
        assert result.findings == fresh(source, CONTEXT_PATH).findings, typed[:end]
        state = result.state
    assert "EC001" in {f.code for f in result.findings}


def _pieces(source: bytes, layout: units.Layout, keep: set[int]) -> list[tuple[int, int, int]]:
    # The original compact source: (compact start, real start, length) of every gap
    # and every kept unit, in order.
    pieces: list[tuple[int, int, int]] = []
    length = position = 0
    for index, (start, end) in enumerate(layout.spans):
        for real, size in [(position, start - position)] + (
            [(start, end - start)] if index in keep else []
        ):
            pieces.append((length, real, size))
            length += size
        position = end
    pieces.append((length, position, len(source) - position))
    return pieces


def _to_real_slow(pieces: list[tuple[int, int, int]], offset: int) -> int | None:
    index = bisect.bisect_right([p[0] for p in pieces], offset) - 1
    return None if index < 0 else pieces[index][1] + offset - pieces[index][0]


@st.composite
def cut_up(draw: st.DrawFn) -> tuple[bytes, units.Layout, list[int]]:
    """A source, a layout of it (units may touch, gaps may be empty), and units to keep."""
    bounds = sorted(draw(st.lists(st.integers(0, 80), max_size=12)))
    spans = tuple((a, b) for a, b in zip(bounds[0::2], bounds[1::2], strict=False) if a < b)
    spans = tuple(s for i, s in enumerate(spans) if i == 0 or s[0] >= spans[i - 1][1])
    keep = draw(st.lists(st.integers(0, max(0, len(spans) - 1)), max_size=3, unique=True))
    return bytes(range(33, 33 + 90)), units.Layout(spans), keep if spans else []


@settings(max_examples=400, deadline=None)
@given(case=cut_up(), offset=st.integers(-2, 100))
def test_the_compact_source_and_its_offsets_match_cutting_out_every_other_unit(
    case: tuple[bytes, units.Layout, list[int]], offset: int
) -> None:
    source, layout, keep = case
    compact = incremental.compact_source(
        source, layout, keep, incremental.Skeleton.of(source, layout)
    )
    pieces = _pieces(source, layout, set(keep))
    assert compact.source == b"".join(source[real : real + size] for _, real, size in pieces)
    assert compact.to_real(offset) == _to_real_slow(pieces, offset)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), case=cut_up())
def test_moved_offsets_match_the_original_point_list(
    data: st.DataObject, case: tuple[bytes, units.Layout, list[int]]
) -> None:
    _, old, dirty = case
    # Each unit grows or shrinks; the gaps keep their lengths.
    sizes = [data.draw(st.integers(1, 9)) for _ in old.spans]
    spans, position, previous_end = [], 0, 0
    for (start, end), size in zip(old.spans, sizes, strict=True):
        position += start - previous_end
        spans.append((position, position + size))
        position, previous_end = position + size, end
    new = units.Layout(tuple(spans))
    points, shifts = [], []
    for (a, b), (c, d) in zip(old.spans, new.spans, strict=True):
        points += [a, b]
        shifts += [c - a, d - b]
    mapping = incremental._moved(old, new, dirty)
    for offset in range(-1, 100):
        if any(old.spans[i][0] < offset < old.spans[i][1] for i in dirty):
            expected = None
        else:
            index = bisect.bisect_right(points, offset) - 1
            expected = offset + (shifts[index] if index >= 0 else 0)
        assert mapping(offset) == expected


@settings(max_examples=300, deadline=None)
@given(
    contributions=st.lists(st.frozensets(st.sampled_from("abcde"), max_size=3), max_size=8),
    data=st.data(),
)
def test_the_union_of_the_other_units_matches_a_union_over_them(
    contributions: list[frozenset[str]], data: st.DataObject
) -> None:
    left_out = data.draw(st.lists(st.integers(0, max(0, len(contributions) - 1)), unique=True))
    left_out = left_out if contributions else []
    (tally,) = incremental._counts({"key": contributions}).values()
    expected = frozenset().union(
        *(names for i, names in enumerate(contributions) if i not in left_out)
    )
    assert incremental._union_except(tally, contributions, left_out) == expected
    assert set(tally) == frozenset().union(*contributions)


def test_a_definition_with_errors_is_cut_out_and_parsed_once_from_scratch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The error stays inside place/1: it is re-checked on its own, and its compact
    # source is parsed fresh at once (an incremental parse would be thrown away).
    anchor = CONTEXT.index("    Repo.update!(User.changeset")
    first = (CONTEXT[:anchor] + "x\n    " + CONTEXT[anchor:]).encode()
    state = again(first, CONTEXT_PATH, again(CONTEXT.encode(), CONTEXT_PATH, None).state).state
    assert state is not None and state.scopes["definition"].compact is not None
    parsed: list[bool] = []
    original = parse_elixir

    def recording(source: bytes, old_tree: object = None) -> object:
        parsed.append(old_tree is not None)
        return original(source, old_tree)  # type: ignore[arg-type]

    monkeypatch.setattr(incremental, "parse_elixir", recording)
    broken = (CONTEXT[:anchor] + "Repo.get!(User, i\n    " + CONTEXT[anchor:]).encode()
    result = again(broken, CONTEXT_PATH, state)
    assert result.has_syntax_errors
    assert result.findings == fresh(broken, CONTEXT_PATH).findings
    assert parsed == [False]
    assert result.state is not None
    assert result.state.scopes["definition"].compact is not None
