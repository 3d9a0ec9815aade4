"""Convert-to-stream fixes whose template is a colocated ``.heex`` file (module and template in one fix)."""

from __future__ import annotations

from pathlib import Path

from analyzers import heex
from analyzers.edits import apply_edits, compatible_fixes
from analyzers.engine import analyze
from analyzers.facts import FactIndex
from analyzers.model import Finding
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_parses

COLOCATED_MODULE = """\
defmodule MyAppWeb.PostLive.Index do
  use MyAppWeb, :live_view

  alias MyApp.Blog

  @impl true
  def mount(_params, _session, socket) do
    {:ok, assign(socket, :posts, Blog.list_posts())}
  end

  @impl true
  def handle_info({:post_created, post}, socket) do
    {:noreply, update(socket, :posts, &[post | &1])}
  end
end
"""

COLOCATED_TEMPLATE = """\
<.header>Posts</.header>

<ul>
  <li :for={post <- @posts} id={"post-#{post.id}"}>
    <.link navigate={~p"/posts/#{post}"}>{post.title}</.link>
  </li>
</ul>
"""


def write_repo(root: Path) -> None:
    """Make ``root`` an Ecto project (its ``list_*`` context functions are queries)."""
    repo = root / "lib" / "my_app" / "repo.ex"
    repo.parent.mkdir(parents=True, exist_ok=True)
    repo.write_text(
        "defmodule MyApp.Repo do\n"
        "  use Ecto.Repo, otp_app: :my_app, adapter: Ecto.Adapters.Postgres\n"
        "end\n"
    )


def test_colocated_template_edited_in_the_same_fix(
    tmp_path: Path, elixir_parser: ElixirParser
) -> None:
    folder = tmp_path / "lib" / "my_app_web" / "live" / "post_live"
    folder.mkdir(parents=True)
    module_path = folder / "index.ex"
    template_path = folder / "index.html.heex"
    module_path.write_text(COLOCATED_MODULE)
    template_path.write_text(COLOCATED_TEMPLATE)
    write_repo(tmp_path)
    facts = FactIndex.scan(tmp_path).facts()

    findings = analyze(module_path.read_bytes(), str(module_path), facts=facts).findings
    lv: list[Finding] = [f for f in findings if f.code in ("LV001", "LV006")]
    assert [f.code for f in lv] == ["LV001", "LV006"]
    [fix] = lv[0].fixes
    assert fix == lv[1].fixes[0]
    module_edits = [e for e in fix.edits if e.path is None]
    template_edits = [e for e in fix.edits if e.path is not None]
    assert {e.path for e in template_edits} == {str(template_path).replace("\\", "/")}

    new_module = apply_edits(module_path.read_bytes(), module_edits).decode()
    new_template = apply_edits(template_path.read_bytes(), template_edits).decode()
    assert new_module == COLOCATED_MODULE.replace(
        "assign(socket, :posts, Blog.list_posts())", "stream(socket, :posts, Blog.list_posts())"
    ).replace("update(socket, :posts, &[post | &1])", "stream_insert(socket, :posts, post, at: 0)")
    assert new_template == (
        "<.header>Posts</.header>\n"
        "\n"
        '<ul phx-update="stream" id="posts">\n'
        "  <li :for={{dom_id, post} <- @streams.posts} id={dom_id}>\n"
        '    <.link navigate={~p"/posts/#{post}"}>{post.title}</.link>\n'
        "  </li>\n"
        "</ul>\n"
    )
    assert_parses(new_module, elixir_parser)
    assert not heex.template_of_heex(new_template.encode()).has_error

    # After the fix, the project is clean for both rules.
    module_path.write_text(new_module)
    template_path.write_text(new_template)
    facts = FactIndex.scan(tmp_path).facts()
    after = analyze(module_path.read_bytes(), str(module_path), facts=facts).findings
    assert [f for f in after if f.code in ("LV001", "LV006")] == []


def test_sample_app_post_index_converts_to_a_working_stream(
    tmp_path: Path, elixir_parser: ElixirParser
) -> None:
    sample = Path(__file__).resolve().parents[4] / "examples" / "sample_app"
    live_dir = Path("lib/sample_app_web/live/post_live")
    folder = tmp_path / live_dir
    folder.mkdir(parents=True)
    for name in ("index.ex", "index.html.heex"):
        (folder / name).write_bytes((sample / live_dir / name).read_bytes())
    write_repo(tmp_path)
    facts = FactIndex.scan(tmp_path).facts()
    module_path = folder / "index.ex"
    template_path = folder / "index.html.heex"
    findings = analyze(module_path.read_bytes(), str(module_path), facts=facts).findings
    chosen = compatible_fixes([f for f in findings if f.code in ("LV001", "LV006")])
    edits = [e for fix in chosen for e in fix.edits]

    new_module = apply_edits(
        module_path.read_bytes(), [e for e in edits if e.path is None]
    ).decode()
    new_template = apply_edits(
        template_path.read_bytes(), [e for e in edits if e.path is not None]
    ).decode()
    assert "|> stream(:posts, Blog.list_posts())" in new_module
    assert "{:noreply, stream_insert(socket, :posts, post, at: 0)}" in new_module
    assert "assign(:posts" not in new_module and "update(socket, :posts" not in new_module
    assert '<ul id="posts" phx-update="stream">' in new_template
    assert "<li :for={{dom_id, post} <- @streams.posts} id={dom_id}>" in new_template
    assert "@posts" not in new_template
    assert_parses(new_module, elixir_parser)
    assert not heex.template_of_heex(new_template.encode()).has_error


def test_colocated_template_edits_follow_the_editor_buffer(tmp_path: Path) -> None:
    """An open template's unsaved text (fed to the fact index) is what the edits address."""
    folder = tmp_path / "lib" / "my_app_web" / "live" / "post_live"
    folder.mkdir(parents=True)
    module_path = folder / "index.ex"
    template_path = folder / "index.html.heex"
    module_path.write_text(COLOCATED_MODULE)
    template_path.write_text(COLOCATED_TEMPLATE)
    write_repo(tmp_path)
    index = FactIndex.scan(tmp_path)
    unsaved = "<p>Ünïcode intro 😀</p>\n" + COLOCATED_TEMPLATE
    index.update(str(template_path), unsaved.encode())

    findings = analyze(module_path.read_bytes(), str(module_path), facts=index.facts()).findings
    [fix] = next(f for f in findings if f.code == "LV001").fixes
    template_edits = [e for e in fix.edits if e.path is not None]
    new_template = apply_edits(unsaved.encode(), template_edits).decode()
    assert new_template.startswith("<p>Ünïcode intro 😀</p>\n<.header>Posts</.header>")
    assert '<ul phx-update="stream" id="posts">' in new_template
    assert "<li :for={{dom_id, post} <- @streams.posts} id={dom_id}>" in new_template
