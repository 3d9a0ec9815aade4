"""HEEx parsing: sigils on their own, expressions as Elixir at absolute offsets, attributes, edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers import heex
from analyzers.edits import apply_edits
from analyzers.parsing import parse_elixir

MODULE = b'''defmodule AppWeb.ThingLive do
  use AppWeb, :live_view

  def render(assigns) do
    ~H"""
    <ul id="things">
      <li :for={thing <- @things} id={"thing-#{thing.id}"}>{thing.name}</li>
    </ul>
    <div class="broken"
    """
  end

  def footer(assigns) do
    ~H"""
    <footer :if={@show} phx-click="close"><%= @note %></footer>
    """
  end
end
'''


def sigil_templates(source: bytes) -> list[heex.Template]:
    return heex.templates_in_elixir(source, parse_elixir(source).root_node)


def test_each_sigil_parses_on_its_own_so_a_broken_one_hides_nothing() -> None:
    first, second = sigil_templates(MODULE)
    assert first.has_error
    assert not second.has_error
    assert [e.name for e in second.elements] == ["footer"]
    footer = second.elements[0]
    assert footer.attribute("phx-click") is not None
    assert footer.attribute("phx-click").value == "close"  # type: ignore[union-attr]
    assert [x.text.strip() for x in second.expressions] == ["@show", "@note"]


def test_elements_know_parents_children_and_attributes() -> None:
    first = sigil_templates(MODULE)[0]
    ul, li = first.elements[:2]
    assert (ul.name, li.name) == ("ul", "li")
    assert li.parent is ul and ul.children[0] is li
    assert [a.name for a in li.attributes] == [":for", "id"]
    assert li.attribute(":for").is_special  # type: ignore[union-attr]
    assert MODULE[li.open_start : li.open_end].startswith(b"<li :for=")


def test_expressions_are_elixir_with_absolute_offsets() -> None:
    first = sigil_templates(MODULE)[0]
    name = next(x for x in first.expressions if x.text == "thing.name")
    (node,) = name.nodes
    assert node.type == "call"
    assert MODULE[node.start_byte : node.end_byte] == b"thing.name"
    assert node.start_point.row == MODULE[: node.start_byte].count(b"\n")


def test_loops_over_an_assign_and_over_a_stream() -> None:
    source = b"""<ul id="a"><li :for={item <- @items, item.visible}>{item.title}</li></ul>
<div id="b" phx-update="stream">
  <p :for={{dom_id, row} <- @streams.rows} id={dom_id}>{row.body}</p>
</div>
<p :for={n <- 1..3}>{n}</p>
"""
    template = heex.template_of_heex(source)
    loops = template.loops()
    assert [(loop.assign, loop.stream) for loop in loops] == [
        ("items", None),
        (None, "rows"),
        (None, None),
    ]
    (items,) = template.loops_over("items")
    assert items.element.name == "li" and items.element.parent is not None
    assert items.element.parent.attribute("id").value == "a"  # type: ignore[union-attr]
    assert source[items.pattern.start_byte : items.pattern.end_byte] == b"item"
    assert template.loops_over("rows")[0].element.name == "p"


def test_assigns_dot_access_counts_as_an_assign() -> None:
    template = heex.template_of_heex(b"<li :for={x <- assigns.items}>{x}</li>")
    assert template.loops()[0].assign == "items"


def test_slots_and_components_are_elements() -> None:
    source = b"""<.table id="t" rows={@rows}>
  <:col :let={u} label="Name">{u.name}</:col>
</.table>
<Remote.card title="x" />
"""
    template = heex.template_of_heex(source)
    assert [(e.kind, e.name) for e in template.elements] == [
        ("component", ".table"),
        ("slot", ":col"),
        ("component", "Remote.card"),
    ]
    assert template.elements[2].self_closing
    assert template.elements[1].parent is template.elements[0]


def test_set_attribute_adds_replaces_and_keeps_one_attribute_per_line() -> None:
    source = b"""<div id="a">
  <button
    type="button"
    phx-click="go"
  >Go</button>
  <span>x</span>
</div>
"""
    template = heex.template_of_heex(source)
    div, button, span = template.elements
    edits = [
        heex.set_attribute(source, div, "id", "b"),
        heex.set_attribute(source, button, "phx-disable-with", "Saving..."),
        heex.set_attribute(source, span, "id", "dom_id", expression=True),
    ]
    result = apply_edits(source, edits)
    assert (
        result
        == b"""<div id="b">
  <button
    type="button"
    phx-click="go"
    phx-disable-with="Saving..."
  >Go</button>
  <span id={dom_id}>x</span>
</div>
"""
    )
    assert not heex.template_of_heex(result).has_error


def test_replace_attribute_value_rewrites_a_loop() -> None:
    source = b"<ul><li :for={item <- @items}>{item.name}</li></ul>"
    template = heex.template_of_heex(source)
    (loop,) = template.loops_over("items")
    assert loop.element.parent is not None
    edits = [
        heex.replace_attribute_value(
            loop.attribute, "{dom_id, item} <- @streams.items", expression=True
        ),
        heex.set_attribute(source, loop.element, "id", "dom_id", expression=True),
        heex.set_attribute(source, loop.element.parent, "phx-update", "stream"),
    ]
    result = apply_edits(source, edits)
    assert result == (
        b'<ul phx-update="stream"><li :for={{dom_id, item} <- @streams.items} id={dom_id}>'
        b"{item.name}</li></ul>"
    )
    assert not heex.template_of_heex(result).has_error


def test_literal_value_with_double_quotes_uses_single_quotes() -> None:
    template = heex.template_of_heex(b"<button disabled>x</button>")
    (attr,) = template.elements[0].attributes
    edit = heex.replace_attribute_value(attr, 'say "hi"')
    assert apply_edits(b"<button disabled>x</button>", [edit]) == (
        b"<button disabled='say \"hi\"'>x</button>"
    )


def test_curly_braces_are_text_in_script_style_and_no_curly_elements() -> None:
    source = b"""<script>var conf = {debug: true}; var n = <%= @count %>;</script>
<style>.card {color: red}</style>
<div phx-no-curly-interpolation><code>{not_code}</code></div>
<p>{@title}</p>
"""
    template = heex.template_of_heex(source)
    assert [x.text.strip() for x in template.expressions] == ["@count", "@title"]


def test_comments_are_listed() -> None:
    source = b"<%!-- phxguard:disable-next-line SC003 --%>\n<p>{raw(@x)}</p>"
    assert heex.template_of_heex(source).comments == [(0, source.index(b"\n"))]


_pieces = st.sampled_from(
    [
        "<p>{@a}</p>",
        '<a href={~p"/x/#{@y}"} class="c">é</a>',
        "<%= Enum.map(@xs, & &1.name) %>",
        "<%= if @ok do %>yes<% end %>",
        '<div :for={x <- @xs} :if={x.ok} title="t">{x.name}</div>',
        '<.button phx-click={JS.push("inc")}>+</.button>',
        "<span>ünïcode {String.upcase(@name)}</span>",
        "<div {@rest}></div>",
        "\n",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=8))
def test_expression_nodes_slice_back_to_their_source_text(pieces: list[str]) -> None:
    body = "".join(pieces)
    elixir = f'defmodule M do\n  def r(assigns), do: ~H"""\n  {body}\n  """\nend\n'.encode()
    for source, template in [
        (body.encode(), heex.template_of_heex(body.encode())),
        (elixir, sigil_templates(elixir)[0]),
    ]:
        for expression in template.expressions:
            assert source[expression.start : expression.end].decode() == expression.text
            for node in expression.nodes:
                assert expression.start <= node.start_byte <= node.end_byte <= expression.end
                assert source[node.start_byte : node.end_byte] == node.text
        for element in template.elements:
            for attr in element.attributes:
                assert source[attr.start : attr.end].decode().startswith(attr.name)
