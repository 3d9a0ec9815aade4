"""The LV family's shared ``applies`` test never changes what its rules find."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.config import Config
from analyzers.context import FileContext
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.rules.liveview.module_rules import may_concern_liveview, might_be_liveview
from tests.analyzers.rules.otp.family_applies import cases, findings_with_and_without_applies


@settings(max_examples=120, deadline=None)
@given(cases())
def test_applies_never_changes_findings(case: tuple[bytes, str]) -> None:
    gated, plain = findings_with_and_without_applies("LV", *case)
    assert gated == plain


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
def test_applies_admits_every_liveview_and_template(fragments: list[str], language: str) -> None:
    source = "".join(fragments).encode()
    ctx = FileContext(
        source, "lib/a.ex", language, parse_elixir(source), config=Config(), facts=ProjectFacts()
    )
    plain = language != "elixir" or might_be_liveview(ctx) or b"~H" in source
    assert may_concern_liveview(ctx) or not plain
    # The words stand only for markers and templates: a file with neither is turned away.
    words = any(word in source for word in (b"live_", b"LiveComponent", b"LiveView", b"~H"))
    assert may_concern_liveview(ctx) == (language != "elixir" or words)
