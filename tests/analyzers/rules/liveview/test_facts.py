"""LiveView facts: modules, their templates, the events templates send, and their handlers."""

from __future__ import annotations

from pathlib import Path

from analyzers.facts import FactIndex
from analyzers.rules.liveview.facts import LIVEVIEW_FACTS, LiveViewFacts

LIVE = b"""defmodule ShopWeb.CartLive.Show do
  use ShopWeb, :live_view
  alias Shop.Orders

  def mount(_params, _session, socket), do: {:ok, socket}

  def handle_event("checkout", _params, socket) do
    {:ok, _order} = Orders.create_order(socket.assigns.cart)
    {:noreply, socket}
  end

  def handle_event("remove", %{"id" => id}, socket) when is_binary(id) do
    {:noreply, socket}
  end
end
"""

TEMPLATE = b"""<button phx-click="checkout">Buy</button>
<a phx-click={JS.push("remove", value: %{id: 1}) |> JS.hide(to: "#row")}>x</a>
<form phx-submit="save" phx-change={@change}></form>
"""

COMPONENT = b'''defmodule ShopWeb.CartLive.LineComponent do
  use Phoenix.LiveComponent

  def render(assigns) do
    ~H"""
    <button phx-click="bump" phx-target={@myself}>+</button>
    """
  end

  def handle_event("bump", _params, socket), do: {:noreply, socket}
end
'''

HTML = b"""defmodule ShopWeb.PageHTML do
  use ShopWeb, :html

  embed_templates "page_html/*"
end
"""


def index(tmp_path: Path, files: dict[str, bytes]) -> LiveViewFacts:
    for name, data in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    facts: LiveViewFacts = FactIndex.scan(tmp_path).facts().get(LIVEVIEW_FACTS)
    return facts


def test_colocated_template_belongs_to_the_live_view(tmp_path: Path) -> None:
    facts = index(
        tmp_path,
        {"lib/cart_live/show.ex": LIVE, "lib/cart_live/show.html.heex": TEMPLATE},
    )
    template = str(tmp_path / "lib/cart_live/show.html.heex")
    assert facts.templates_of("ShopWeb.CartLive.Show") == [template]
    module = facts.module_of_template(template)
    assert module is not None and module.name == "ShopWeb.CartLive.Show"
    assert module.kind == "live_view" and not module.has_render
    events = [(e.event, e.binding) for e in facts.events_of_template(template)]
    assert events == [("checkout", "phx-click"), ("remove", "JS.push"), ("save", "phx-submit")]


def test_handlers_by_event_with_guards(tmp_path: Path) -> None:
    facts = index(tmp_path, {"lib/cart_live/show.ex": LIVE})
    (checkout,) = facts.handlers("ShopWeb.CartLive.Show", "checkout")
    assert LIVE[checkout.start : checkout.end].startswith(b'def handle_event("checkout"')
    assert len(facts.handlers("ShopWeb.CartLive.Show", "remove")) == 1
    assert facts.handlers("ShopWeb.CartLive.Show", "missing") == ()
    assert facts.handlers("Nope", "checkout") == ()


def test_relative_paths_resolve_against_the_root(tmp_path: Path) -> None:
    facts = index(
        tmp_path,
        {"lib/cart_live/show.ex": LIVE, "lib/cart_live/show.html.heex": TEMPLATE},
    )
    module = facts.module_of_template("lib/cart_live/show.html.heex", str(tmp_path))
    assert module is not None
    assert [m.name for m in facts.modules_in("lib/cart_live/show.ex", str(tmp_path))] == [
        "ShopWeb.CartLive.Show"
    ]


def test_a_template_named_after_another_module_is_not_claimed(tmp_path: Path) -> None:
    facts = index(
        tmp_path,
        {"lib/cart_live/show.ex": LIVE, "lib/cart_live/index.html.heex": TEMPLATE},
    )
    assert facts.templates_of("ShopWeb.CartLive.Show") == []
    assert facts.module_of_template(str(tmp_path / "lib/cart_live/index.html.heex")) is None


def test_render_with_sigil_wins_over_a_colocated_file_and_sigil_events_are_read(
    tmp_path: Path,
) -> None:
    facts = index(
        tmp_path,
        {
            "lib/cart_live/line_component.ex": COMPONENT,
            "lib/cart_live/line_component.html.heex": TEMPLATE,
        },
    )
    module = facts.modules["ShopWeb.CartLive.LineComponent"]
    assert module.kind == "live_component" and module.has_render
    assert facts.templates_of(module.name) == []
    assert [e.event for e in module.sigil_events] == ["bump"]


def test_embed_templates(tmp_path: Path) -> None:
    facts = index(
        tmp_path,
        {
            "lib/shop_web/page_html.ex": HTML,
            "lib/shop_web/page_html/home.html.heex": b"<p>home</p>",
            "lib/shop_web/other/about.html.heex": b"<p>about</p>",
        },
    )
    home = str(tmp_path / "lib/shop_web/page_html/home.html.heex")
    assert facts.templates_of("ShopWeb.PageHTML") == [home]
    module = facts.module_of_template(home)
    assert module is not None and module.kind == "html"
    assert facts.module_of_template(str(tmp_path / "lib/shop_web/other/about.html.heex")) is None


def test_index_updates_when_a_template_changes_and_is_removed(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/show.ex").write_bytes(LIVE)
    idx = FactIndex.scan(tmp_path)
    template = str(tmp_path / "lib/show.html.heex")
    assert idx.update(template, b'<button phx-click="checkout">Buy</button>')
    facts: LiveViewFacts = idx.facts().get(LIVEVIEW_FACTS)
    assert [e.event for e in facts.events_of_template(template)] == ["checkout"]
    assert not idx.update(template, b'<button phx-click="checkout">Buy</button>')
    assert idx.remove(template)
    facts = idx.facts().get(LIVEVIEW_FACTS)
    assert facts.events_of_template(template) == ()
    assert facts.templates_of("ShopWeb.CartLive.Show") == []


def test_empty_facts_answer_every_lookup() -> None:
    facts = LiveViewFacts()
    assert facts.templates_of("X") == []
    assert facts.module_of_template("/a/b.html.heex") is None
    assert facts.handlers("X", "e") == ()
