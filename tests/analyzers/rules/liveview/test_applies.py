"""The LV family's shared ``applies`` test never changes what its rules find."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.engine import analyze
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.rules.liveview import templates
from analyzers.rules.liveview.module_rules import may_concern_liveview, might_be_liveview
from tests.analyzers.rules.family_applies import (
    cases,
    family,
)

# Words that make or miss a LiveView module or a template, and plain code around them.
FRAGMENTS = (
    "use MyAppWeb, :live_view\n",
    "use MyAppWeb, :live_component\n",
    "use Phoenix.LiveView\n",
    "use Phoenix.LiveComponent\n",
    "live_session :default do\nend\n",
    "alias MyAppWeb.UserLive\n",
    'def render(assigns), do: ~H"<p>hi</p>"\n',
    "# ~H\n",
    "live_\n",
    "x = 1\n",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=4), st.sampled_from(("elixir", "heex")))
def test_applies_admits_every_liveview(fragments: list[str], language: str) -> None:
    source = "".join(fragments).encode()
    ctx = FileContext(
        source, "lib/a.ex", language, parse_elixir(source), config=Config(), facts=ProjectFacts()
    )
    plain = language != "elixir" or might_be_liveview(ctx)
    assert may_concern_liveview(ctx) or not plain
    # The words stand only for the markers: a file with none is turned away.
    words = any(word in source for word in (b"live_", b"LiveComponent", b"LiveView"))
    assert may_concern_liveview(ctx) == (language != "elixir" or words)


@settings(max_examples=120, deadline=None)
@given(cases())
def test_template_rules_skip_only_files_without_live_sigils(case: tuple[bytes, str]) -> None:
    # LV004 and LV005 turn an Elixir file without a LiveView marker and `~H` away before
    # parsing its sigils: they must find what they find when they parse every file's.
    source, path = case
    rules = [rule for rule in family("LV") if rule.code in ("LV004", "LV005")]
    fast = analyze(source, path, rules=rules).findings
    with patch.object(templates, "_may_hold_live_sigils", lambda ctx: True):
        plain = analyze(source, path, rules=rules).findings
    assert fast == plain


def test_function_components_are_not_read_for_live_templates() -> None:
    source = (
        b"defmodule AppWeb.CoreComponents do\n"
        b"  use Phoenix.Component\n"
        b"  alias Phoenix.LiveView.JS\n"
        b'  def list(assigns), do: ~H"<p phx-click=\\"x\\">{Repo.all(Post)}</p>"\n'
        b"end\n"
    )
    ctx = FileContext(
        source, "lib/a.ex", "elixir", parse_elixir(source), config=Config(), facts=ProjectFacts()
    )
    # It spells a marker (`Phoenix.LiveView.JS`) and `~H`, but no module of it is live.
    assert might_be_liveview(ctx)
    assert not templates._may_hold_live_sigils(ctx)
    assert analyze(source, "lib/a.ex", rules=family("LV")).findings == []
