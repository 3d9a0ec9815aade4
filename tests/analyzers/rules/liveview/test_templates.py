"""LV004 work-in-render and LV005 double-submit, in ~H sigils, render/1 and .heex files."""

from __future__ import annotations

from analyzers import heex
from analyzers.edits import apply_edits
from analyzers.engine import analyze
from analyzers.facts import FactIndex
from analyzers.model import Finding
from analyzers.project import ProjectFacts
from analyzers.rules.liveview.templates import DOUBLE_SUBMIT, WORK_IN_RENDER
from analyzers.rules.security.templates import RAW_HTML
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, assert_parses, dedent, flagged_text, only

LIVE_PATH = "lib/shop_web/live/cart_live.ex"
ROOT = "/proj"


def project(files: dict[str, str]) -> ProjectFacts:
    """Facts of a project made of ``files`` (paths relative to ROOT), read from memory."""
    index = FactIndex(ROOT)
    for name, text in files.items():
        index.update(f"{ROOT}/{name}", dedent(text).encode())
    return index.facts()


def heex_findings(code: str, template: str, path: str, facts: ProjectFacts) -> list[Finding]:
    result = analyze(dedent(template).encode(), f"{ROOT}/{path}", facts=facts)
    assert not result.failures, [f.traceback for f in result.failures]
    return [f for f in result.findings if f.code == code]


# --- LV004 -----------------------------------------------------------------------------

RENDER_WORK = '''
defmodule ShopWeb.CartLive do
  use ShopWeb, :live_view
  alias Shop.{Orders, Repo}
  alias Ecto.Changeset

  def mount(_params, _session, socket) do
    {:ok, assign(socket, orders: Orders.list_orders(), count: Repo.aggregate(Shop.Order, :count))}
  end

  def render(assigns) do
    assigns = assign(assigns, :recent, Orders.list_recent_orders())

    ~H"""
    <ul>
      <li :for={order <- Orders.list_orders()}>{order.id}</li>
      <li :for={order <- @orders}>{Orders.get_customer!(order.customer_id).name}</li>
    </ul>
    <p>{Repo.aggregate(Shop.Order, :count)}</p>
    <p>{Changeset.get_field(@changeset, :title)} {Map.get(@meta, :x)}</p>
    <p>{Application.get_env(:shop, :name)} {ShopWeb.Helpers.get_label(@orders)}</p>
    """
  end
end
'''


def test_lv004_flags_repo_and_context_reads_in_the_template_and_render() -> None:
    found = only("LV004", RENDER_WORK, LIVE_PATH)
    assert [flagged_text(RENDER_WORK, f) for f in found] == [
        "Orders.list_recent_orders()",
        "Orders.list_orders()",
        "Orders.get_customer!(order.customer_id)",
        "Repo.aggregate(Shop.Order, :count)",
    ]
    assert "Orders.list_orders in a template" in found[1].message
    assert "in render/1" in found[0].message


def test_lv004_leaves_function_component_modules_and_mount_alone() -> None:
    source = '''
    defmodule ShopWeb.OrderComponents do
      use Phoenix.Component
      alias Shop.Orders

      def order_list(assigns) do
        ~H"""
        <li :for={order <- Orders.list_orders()}>{order.id}</li>
        """
      end
    end
    '''
    assert only("LV004", source, "lib/shop_web/components/order_components.ex") == []


def test_lv004_repo_named_module_that_is_not_the_projects_repo() -> None:
    source = '''
    defmodule ShopWeb.CodeLive do
      use ShopWeb, :live_view
      alias Shop.Git.Repo

      def render(assigns) do
        ~H"""
        <p>{Repo.all(@path)}</p>
        """
      end
    end
    '''
    facts = project({"lib/shop/repo.ex": "defmodule Shop.Repo do\n  use Ecto.Repo\nend\n"})
    assert only("LV004", source, LIVE_PATH, facts=facts) == []
    assert len(only("LV004", source, LIVE_PATH)) == 1  # alone, a *Repo module is taken for one


CONTEXT = """
defmodule Shop.Catalog do
  alias Shop.Repo
  alias Shop.Catalog.Product

  def list_categories, do: ~w(books music)

  def count_reviews(product), do: review_query(product) |> Repo.aggregate(:count)

  def get_price_label(product), do: "$#{product.price}"

  defp review_query(product), do: Ecto.assoc(product, :reviews)
end
"""

SCHEMA = """
defmodule Shop.Catalog.Product do
  use Ecto.Schema

  schema "products" do
    field :name, :string
  end

  def get_display_name(product), do: String.upcase(product.name)
end
"""


def test_lv004_workspace_contexts_count_by_what_their_functions_do() -> None:
    source = '''
    defmodule ShopWeb.ProductLive do
      use ShopWeb, :live_view
      alias Shop.Catalog
      alias Shop.Catalog.Product

      def render(assigns) do
        ~H"""
        <option :for={c <- Catalog.list_categories()}>{c}</option>
        <p>{Catalog.count_reviews(@product)} {Catalog.get_price_label(@product)}</p>
        <p>{Product.get_display_name(@product)} {Shop.Orders.list_orders()}</p>
        """
      end
    end
    '''
    facts = project({"lib/shop/catalog.ex": CONTEXT, "lib/shop/catalog/product.ex": SCHEMA})
    found = only("LV004", source, LIVE_PATH, facts=facts)
    # Shop.Orders is not in the workspace: its list_* is taken at its name.
    assert [flagged_text(source, f) for f in found] == [
        "Catalog.count_reviews(@product)",
        "Shop.Orders.list_orders()",
    ]


LIVE_MODULE = """
defmodule ShopWeb.CartLive.Show do
  use ShopWeb, :live_view
  alias Shop.Orders

  def handle_event("checkout", _params, socket) do
    {:ok, _order} = Orders.create_order(socket.assigns.cart)
    {:noreply, socket}
  end
end
"""


def test_lv004_in_a_heex_file_resolves_through_its_modules_aliases() -> None:
    facts = project({"lib/shop_web/live/cart_live/show.ex": LIVE_MODULE})
    template = """
    <p :for={o <- Orders.list_orders()}>{o.id}</p>
    <p>{Shop.Orders.get_order!(@id).total} {Gettext.get_locale()}</p>
    """
    found = heex_findings("LV004", template, "lib/shop_web/live/cart_live/show.html.heex", facts)
    text = dedent(template).encode()
    assert [text[f.start : f.end] for f in found] == [
        b"Orders.list_orders()",
        b"Shop.Orders.get_order!(@id)",
    ]


def test_lv004_heex_file_of_a_controller_view_is_not_flagged() -> None:
    facts = project(
        {
            "lib/shop_web/controllers/page_html.ex": (
                'defmodule ShopWeb.PageHTML do\n  use ShopWeb, :html\n  embed_templates "page_html/*"\nend\n'
            )
        }
    )
    template = "<p>{Repo.all(Shop.Order)}</p>\n"
    assert (
        heex_findings("LV004", template, "lib/shop_web/controllers/page_html/home.html.heex", facts)
        == []
    )


# --- LV005 -----------------------------------------------------------------------------

DOUBLE = '''
defmodule ShopWeb.CartLive do
  use ShopWeb, :live_view
  alias Shop.Orders

  def render(assigns) do
    ~H"""
    <button phx-click="checkout">Buy</button>
    <button phx-click="checkout" phx-disable-with="Buying...">Buy</button>
    <button phx-click="checkout" data-confirm="Sure?">Buy</button>
    <button phx-click="rename">Rename</button>
    <form phx-submit="checkout"><button>Buy</button></form>
    <.button phx-click={JS.push("checkout")}>Buy</.button>
    """
  end

  def handle_event("checkout", _params, socket) do
    {:ok, order} = Orders.create_order(socket.assigns.cart)
    {:noreply, assign(socket, :order, order)}
  end

  def handle_event("rename", %{"name" => name}, socket) do
    {:ok, cart} = Orders.update_cart(socket.assigns.cart, %{name: name})
    {:noreply, assign(socket, :cart, cart)}
  end
end
'''


def test_lv005_flags_click_bindings_whose_handler_creates() -> None:
    found = only("LV005", DOUBLE, LIVE_PATH)
    assert [flagged_text(DOUBLE, f) for f in found] == [
        'phx-click="checkout"',
        'phx-click={JS.push("checkout")}',
    ]
    assert "Orders.create_order" in found[0].message


def test_lv005_fix_adds_phx_disable_with(elixir_parser: ElixirParser) -> None:
    source = '''
    defmodule ShopWeb.CartLive do
      use ShopWeb, :live_view

      def render(assigns) do
        ~H"""
        <button
          type="button"
          phx-click="checkout"
        >
          Buy
        </button>
        """
      end

      def handle_event("checkout", _params, socket) do
        {:noreply, place(socket)}
      end

      defp place(socket) do
        {:ok, order} = Shop.Repo.insert(Shop.Order.changeset(%Shop.Order{}, %{}))
        assign(socket, :order, order)
      end
    end
    '''
    expected = '''
    defmodule ShopWeb.CartLive do
      use ShopWeb, :live_view

      def render(assigns) do
        ~H"""
        <button
          type="button"
          phx-click="checkout"
          phx-disable-with="Saving..."
        >
          Buy
        </button>
        """
      end

      def handle_event("checkout", _params, socket) do
        {:noreply, place(socket)}
      end

      defp place(socket) do
        {:ok, order} = Shop.Repo.insert(Shop.Order.changeset(%Shop.Order{}, %{}))
        assign(socket, :order, order)
      end
    end
    '''
    assert_fixed("LV005", source, expected, elixir_parser, path=LIVE_PATH)


def test_lv005_fix_in_a_one_line_sigil_uses_single_quotes(elixir_parser: ElixirParser) -> None:
    source = """
    defmodule ShopWeb.LikeLive do
      use Phoenix.LiveView

      def render(assigns), do: ~H"<a phx-click=\\"like\\">Like</a>"

      def handle_event("like", _params, socket) do
        {:ok, _} = Shop.Social.create_like(socket.assigns.user, socket.assigns.post)
        {:noreply, socket}
      end
    end
    """
    found = only("LV005", source, LIVE_PATH)
    assert len(found) == 0  # escaped quotes are not HEEx attribute quotes: nothing to read
    source = source.replace('\\"like\\"', "'like'")
    expected = source.replace("phx-click='like'", "phx-click='like' phx-disable-with='Saving...'")
    assert_fixed("LV005", source, expected, elixir_parser, path=LIVE_PATH)


IDEMPOTENT = '''
defmodule ShopWeb.CartLive do
  use ShopWeb, :live_view
  alias Shop.{Orders, Repo}

  def render(assigns) do
    ~H"""
    <button phx-click="upsert">A</button>
    <button phx-click="checked">B</button>
    <button phx-click="helper">C</button>
    <button phx-click="slow" phx-throttle="1000">D</button>
    <button phx-click="unknown">E</button>
    <button phx-click="elsewhere" phx-target="#other">F</button>
    """
  end

  def handle_event("upsert", %{"id" => id}, socket) do
    Repo.insert(%Shop.Like{post_id: id}, on_conflict: :nothing)
    {:noreply, socket}
  end

  def handle_event("checked", %{"id" => id}, socket) do
    unless Repo.get_by(Shop.Like, post_id: id), do: Orders.create_like(id)
    {:noreply, socket}
  end

  def handle_event("helper", %{"id" => id}, socket) do
    {:ok, _} = Orders.get_or_create_cart(id)
    {:noreply, socket}
  end

  def handle_event("slow", _params, socket) do
    Orders.create_order(socket.assigns.cart)
    {:noreply, socket}
  end

  def handle_event("elsewhere", _params, socket) do
    Orders.create_order(socket.assigns.cart)
    {:noreply, socket}
  end
end
'''


def test_lv005_quiet_for_guarded_handlers_throttles_and_other_targets() -> None:
    assert only("LV005", IDEMPOTENT, LIVE_PATH) == []


COMPONENT = '''
defmodule ShopWeb.CartLive.AddComponent do
  use ShopWeb, :live_component

  def render(assigns) do
    ~H"""
    <div>
      <button phx-click="add" phx-target={@myself}>Add</button>
      <button phx-click="add">Add (to the parent)</button>
    </div>
    """
  end

  def handle_event("add", _params, socket) do
    {:ok, _} = Shop.Orders.create_line(socket.assigns.cart)
    {:noreply, socket}
  end
end
'''


def test_lv005_live_component_events_need_phx_target_myself() -> None:
    found = only("LV005", COMPONENT, "lib/shop_web/live/cart_live/add_component.ex")
    assert [flagged_text(COMPONENT, f) for f in found] == ['phx-click="add"']
    assert found[0].start < dedent(COMPONENT).index("@myself")


def test_lv005_in_a_heex_file_uses_the_colocated_live_views_handler() -> None:
    facts = project({"lib/shop_web/live/cart_live/show.ex": LIVE_MODULE})
    template = """
    <div id="cart">
      <button class="btn" phx-click="checkout">Buy</button>
      <button phx-click="other">Other</button>
    </div>
    """
    path = "lib/shop_web/live/cart_live/show.html.heex"
    (found,) = heex_findings("LV005", template, path, facts)
    result = apply_edits(dedent(template).encode(), found.fixes[0].edits)
    assert result.decode() == dedent(
        """
        <div id="cart">
          <button class="btn" phx-click="checkout" phx-disable-with="Saving...">Buy</button>
          <button phx-click="other">Other</button>
        </div>
        """
    )
    assert not heex.template_of_heex(result).has_error
    assert heex_findings("LV005", result.decode(), path, facts) == []
    # The same template with no LiveView beside it: no handler known, nothing said.
    assert heex_findings("LV005", template, path, project({})) == []


def test_lv005_relative_paths_as_the_cli_passes_them() -> None:
    facts = project({"lib/shop_web/live/cart_live/show.ex": LIVE_MODULE})
    template = '<button phx-click="checkout">Buy</button>\n'
    result = analyze(template.encode(), "lib/shop_web/live/cart_live/show.html.heex", facts=facts)
    assert [f.code for f in result.findings] == ["LV005"]


def test_lv005_fixed_module_still_parses(elixir_parser: ElixirParser) -> None:
    found = only("LV005", DOUBLE, LIVE_PATH)
    text = apply_edits(dedent(DOUBLE).encode(), found[1].fixes[0].edits).decode()
    assert '<.button phx-click={JS.push("checkout")} phx-disable-with="Saving...">' in text
    assert_parses(text, elixir_parser)


SOCIAL_CONTEXT = """
defmodule Shop.Social do
  alias Shop.Repo
  alias Shop.Social.{Follow, Note, Vote}

  def create_follow(user, target) do
    %Follow{user_id: user.id, target_id: target.id} |> Follow.changeset(%{}) |> Repo.insert()
  end

  def create_vote(user, post) do
    Repo.insert(%Vote{user_id: user.id, post_id: post.id}, on_conflict: :nothing)
  end

  def create_note(user, body), do: Repo.insert(Note.changeset(%Note{user_id: user.id}, body))
end
"""

FOLLOW_SCHEMA = """
defmodule Shop.Social.Follow do
  use Ecto.Schema
  import Ecto.Changeset

  schema "follows" do
    field :user_id, :id
    field :target_id, :id
  end

  def changeset(follow, attrs) do
    follow
    |> cast(attrs, [])
    |> unique_constraint([:user_id, :target_id])
  end
end
"""

SOCIAL_LIVE = '''
defmodule ShopWeb.ProfileLive do
  use ShopWeb, :live_view
  alias Shop.{Repo, Social}
  alias Shop.Social.Follow

  def render(assigns) do
    ~H"""
    <button phx-click="follow">Follow</button>
    <button phx-click="vote">Vote</button>
    <button phx-click="note">Note</button>
    <button phx-click="follow_direct">Follow</button>
    """
  end

  def handle_event("follow", _params, socket) do
    Social.create_follow(socket.assigns.user, socket.assigns.profile)
    {:noreply, socket}
  end

  def handle_event("vote", _params, socket) do
    Social.create_vote(socket.assigns.user, socket.assigns.post)
    {:noreply, socket}
  end

  def handle_event("note", %{"body" => body}, socket) do
    Social.create_note(socket.assigns.user, body)
    {:noreply, socket}
  end

  def handle_event("follow_direct", _params, socket) do
    Repo.insert(Follow.changeset(%Follow{}, %{}))
    {:noreply, socket}
  end
end
'''


def test_lv005_workspace_shows_which_creates_are_safe_to_repeat() -> None:
    facts = project(
        {"lib/shop/social.ex": SOCIAL_CONTEXT, "lib/shop/social/follow.ex": FOLLOW_SCHEMA}
    )
    found = only("LV005", SOCIAL_LIVE, "lib/shop_web/live/profile_live.ex", facts=facts)
    # Follow has a unique constraint, the vote is an upsert: only the note can be doubled.
    assert [flagged_text(SOCIAL_LIVE, f) for f in found] == ['phx-click="note"']
    # Alone, without the workspace, every create is a candidate.
    alone = only("LV005", SOCIAL_LIVE, "lib/shop_web/live/profile_live.ex")
    assert len(alone) == 4


def test_safe_patterns_parse_and_stay_quiet(elixir_parser: ElixirParser) -> None:
    for meta in (WORK_IN_RENDER, DOUBLE_SUBMIT, RAW_HTML):
        assert_parses(meta.safe_pattern, elixir_parser)
        body = "\n".join("  " + line if line else "" for line in meta.safe_pattern.splitlines())
        module = f"defmodule ShopWeb.ExampleLive do\n  use ShopWeb, :live_view\n\n{body}\nend\n"
        result = analyze(module.encode(), LIVE_PATH)
        assert [f.code for f in result.findings if f.code == meta.code] == [], meta.code
