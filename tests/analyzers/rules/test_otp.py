"""OT001–OT006: unsupervised processes, atoms from input, infinite calls, binary_to_term,
unowned ETS tables, GenServer bottlenecks."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, dedent, flagged_text, only

LIB = "lib/my_app/worker.ex"
WEB = "lib/my_app_web/controllers/post_controller.ex"


def module(body: str, header: str = "", name: str = "MyApp.Worker") -> str:
    """A module with ``header`` lines then ``body`` (both unindented)."""
    lines = [f"defmodule {name} do"]
    lines += ["  " + line if line else "" for line in dedent(header).splitlines()]
    if header:
        lines.append("")
    lines += ["  " + line if line else "" for line in dedent(body).splitlines()]
    lines.append("end")
    return "\n".join(lines) + "\n"


# --- OT001 unsupervised-process --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        ("def notify(user) do\n  spawn(fn -> Mailer.deliver(user) end)\n  :ok\nend", "spawn"),
        ("def notify(user) do\n  Task.start(fn -> Mailer.deliver(user) end)\nend", "Task.start"),
        ("def notify(user), do: spawn_link(fn -> Mailer.deliver(user) end)", "spawn_link"),
        (
            "def notify(user) do\n  Task.async(fn -> Mailer.deliver(user) end)\n  :ok\nend",
            "Task.async",
        ),
        (
            "def notify(user) do\n  _task = Task.async(fn -> Mailer.deliver(user) end)\n  :ok\nend",
            "Task.async",
        ),
        (
            "def notify(user) do\n  Kernel.spawn(fn -> Mailer.deliver(user) end)\nend",
            "Kernel.spawn",
        ),
    ],
)
def test_ot001_flags_processes_started_outside_supervision(body: str, flagged: str) -> None:
    source = module(body)
    findings = only("OT001", source, LIB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == flagged
    assert "`notify`" in findings[0].message
    assert "Task.Supervisor" in findings[0].message
    assert findings[0].severity is Severity.WARNING
    assert findings[0].fixes == ()


@pytest.mark.parametrize(
    "body",
    [
        # Awaited in the same function, piped or bound.
        "def fetch(a) do\n  task = Task.async(fn -> load(a) end)\n  Task.await(task)\nend",
        "def fetch(a) do\n  Task.async(fn -> load(a) end) |> Task.await(10_000)\nend",
        "def fetch(ids) do\n  ids |> Enum.map(&Task.async(fn -> load(&1) end))"
        " |> Enum.map(&Task.await/1)\nend",
        "def fetch(ids) do\n  tasks = Enum.map(ids, fn id -> Task.async(fn -> load(id) end) end)\n"
        "  Task.yield_many(tasks)\nend",
        # Returned to the caller, who awaits it.
        "def fetch_async(a), do: Task.async(fn -> load(a) end)",
        # Supervised.
        "def notify(u), do: Task.Supervisor.start_child(MyApp.TaskSupervisor, fn -> send_it(u) end)",
        "def notify(u) do\n  Task.Supervisor.async_nolink(MyApp.TaskSupervisor, fn -> send_it(u) end)\n"
        "  :ok\nend",
        # A custom child's start function: its supervisor owns the process.
        "def start_link(arg), do: {:ok, spawn_link(fn -> loop(arg) end)}",
        # Compile-time code is not a running process.
        "@pid_fun &spawn/1",
    ],
)
def test_ot001_ignores_awaited_returned_and_supervised_processes(body: str) -> None:
    assert only("OT001", module(body), LIB) == []


def test_ot001_ignores_spawn_link_from_a_supervised_genserver() -> None:
    body = """
    def handle_cast(:work, state) do
      spawn_link(fn -> work(state) end)
      {:noreply, state}
    end
    """
    assert only("OT001", module(body, "use GenServer"), LIB) == []


def test_ot001_ignores_task_async_whose_reply_is_received_as_a_message() -> None:
    body = """
    def handle_event("load", _params, socket) do
      Task.async(fn -> expensive() end)
      {:noreply, socket}
    end

    def handle_info({ref, result}, socket) when is_reference(ref) do
      {:noreply, assign(socket, :result, result)}
    end
    """
    assert only("OT001", module(body, "use MyAppWeb, :live_view"), WEB) == []


@pytest.mark.parametrize(
    "path",
    [
        "test/my_app/worker_test.exs",
        "test/support/fixtures.ex",
        "priv/repo/seeds.exs",
        "lib/mix/tasks/my_app.import.ex",
    ],
)
def test_ot001_ignores_tests_scripts_and_mix_tasks(path: str) -> None:
    source = module("def run(_) do\n  spawn(fn -> :ok end)\n  :ok\nend")
    assert only("OT001", source, path) == []


def test_ot001_ignores_mix_task_modules_anywhere() -> None:
    source = module("def run(_) do\n  spawn(fn -> :ok end)\n  :ok\nend", name="Mix.Tasks.Seed")
    assert only("OT001", source, LIB) == []


@pytest.mark.parametrize(
    "body",
    [
        "def wave(enemies), do: Enum.map(enemies, &spawn(&1))\n\ndef spawn(enemy), do: enemy",
        "def wave(enemy) do\n  spawn(enemy)\n  :ok\nend",
    ],
)
def test_ot001_does_not_mistake_a_local_spawn_function(body: str) -> None:
    assert only("OT001", module(body), LIB) == []


def test_ot001_reads_spawn_with_module_function_arguments() -> None:
    source = module("def go(a) do\n  spawn(MyApp.Sync, :run, [a])\n  :ok\nend")
    assert len(only("OT001", source, LIB)) == 1


def test_ot001_names_the_applications_task_supervisor() -> None:
    source = module("def go do\n  Task.start(fn -> :ok end)\nend", name="ShopWeb.CartLive")
    [finding] = only("OT001", source, WEB)
    assert "Task.Supervisor.start_child(Shop.TaskSupervisor, fn -> ... end)" in finding.message


def test_ot001_does_not_mistake_another_task_module() -> None:
    source = module("def go do\n  Task.start(fn -> :ok end)\nend", "alias MyApp.Jobs.Task")
    assert only("OT001", source, LIB) == []


# --- OT002 atom-from-input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ('def index(conn, params) do\n  String.to_atom(params["sort"])\nend', "String.to_atom"),
        (
            'def index(conn, %{"sort" => sort}) do\n  sort |> String.to_atom()\nend',
            "String.to_atom",
        ),
        (
            'def handle_event("filter", %{"by" => by}, socket) do\n'
            "  {:noreply, assign(socket, :by, String.to_atom(by))}\nend",
            "String.to_atom",
        ),
        ('def sort(conn) do\n  List.to_atom(conn.params["s"])\nend', "List.to_atom"),
        (
            'def handle_in("set", payload, socket) do\n'
            '  key = :erlang.binary_to_atom(payload["key"], :utf8)\n'
            "  {:reply, {:ok, %{key: key}}, socket}\nend",
            ":erlang.binary_to_atom",
        ),
    ],
)
def test_ot002_flags_atoms_created_from_outside_input(body: str, call: str) -> None:
    source = module(body)
    findings = only("OT002", source, WEB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]).startswith(call) or call in flagged_text(
        source, findings[0]
    )
    assert "outside input" in findings[0].message
    assert findings[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    "body",
    [
        'def kind, do: String.to_atom("published")',
        "def kind, do: String.to_atom(@default_kind)",
        'def kind, do: String.to_atom("post_#{@suffix}")',
        "def kind, do: String.to_atom(~s(post))",
        'def kind, do: List.to_atom(~c"post")',
        # Internal names built from atoms the code controls.
        'def op(flag), do: String.to_atom("old_#{flag}")',
        "def field(name), do: String.to_atom(name)",
        # An allow-list check first.
        'def sort(conn, params) do\n  if params["s"] in @sorts, do: String.to_atom(params["s"])\nend',
        # Already the safe variant.
        'def sort(conn, params), do: String.to_existing_atom(params["s"])',
        # Compile-time generation.
        "defmacro field(name), do: String.to_atom(name)",
    ],
)
def test_ot002_ignores_literals_bounded_values_and_compile_time_code(body: str) -> None:
    assert only("OT002", module(body, '@default_kind "draft"'), WEB) == []


def test_ot002_ignores_tests_and_scripts() -> None:
    source = module('def index(conn, params), do: String.to_atom(params["s"])')
    assert only("OT002", source, "test/my_app_web/post_controller_test.exs") == []
    assert only("OT002", source, "config/runtime.exs") == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('String.to_atom(params["sort"])', 'String.to_existing_atom(params["sort"])'),
        ('params["sort"] |> String.to_atom()', 'params["sort"] |> String.to_existing_atom()'),
        ('List.to_atom(params["sort"])', 'List.to_existing_atom(params["sort"])'),
        (
            ':erlang.binary_to_atom(params["sort"], :utf8)',
            ':erlang.binary_to_existing_atom(params["sort"], :utf8)',
        ),
        (':erlang.list_to_atom(params["sort"])', ':erlang.list_to_existing_atom(params["sort"])'),
    ],
)
def test_ot002_fix_uses_the_existing_atom_variant(
    before: str, after: str, elixir_parser: ElixirParser
) -> None:
    body = "def index(conn, params) do\n  sort = EXPR\n  render(conn, :index, sort: sort)\nend"
    assert_fixed(
        "OT002",
        module(body.replace("EXPR", before)),
        module(body.replace("EXPR", after)),
        elixir_parser,
        path=WEB,
    )


# --- OT003 infinite-call-timeout -------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "GenServer.call(__MODULE__, {:export, id}, :infinity)",
        "GenServer.call(pid, :sync, :infinity)",
        ":gen_server.call(pid, :sync, :infinity)",
    ],
)
def test_ot003_flags_calls_without_timeout(call: str) -> None:
    source = module(f"def export(pid, id), do: {call}")
    findings = only("OT003", source, LIB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == ":infinity"
    assert "waits for ever" in findings[0].message


@pytest.mark.parametrize(
    "call",
    [
        "GenServer.call(__MODULE__, {:export, id})",
        "GenServer.call(__MODULE__, {:export, id}, 30_000)",
        "GenServer.call(__MODULE__, {:export, id}, @timeout)",
        "Task.await(task, :infinity)",
        "GenServer.cast(pid, {:timeout, :infinity})",
        "GenServer.call(pid, {:set_timeout, :infinity})",
    ],
)
def test_ot003_ignores_finite_timeouts_and_other_functions(call: str) -> None:
    assert only("OT003", module(f"def export(pid, id, task), do: {call}"), LIB) == []


def test_ot003_ignores_tests() -> None:
    source = module("def export(pid), do: GenServer.call(pid, :x, :infinity)")
    assert only("OT003", source, "test/my_app/export_test.exs") == []


# --- OT004 unsafe-binary-to-term -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'def decode(conn, params), do: :erlang.binary_to_term(params["state"])',
        'def decode(conn) do\n  {:ok, bin} = Base.url_decode64(conn.cookies["s"])\n'
        "  :erlang.binary_to_term(bin)\nend",
        'def handle_in("restore", %{"blob" => blob}, socket) do\n'
        "  {:reply, {:ok, :erlang.binary_to_term(blob)}, socket}\nend",
    ],
)
def test_ot004_flags_binary_to_term_on_outside_data(body: str) -> None:
    source = module(body)
    findings = only("OT004", source, WEB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]).startswith(":erlang.binary_to_term(")
    assert findings[0].severity is Severity.ERROR
    assert findings[0].fixes[0].title == "Pass `[:safe]` to `binary_to_term`"


@pytest.mark.parametrize(
    "body",
    [
        "def decode(params), do: :erlang.binary_to_term(params, [:safe])",
        "def decode(params), do: Plug.Crypto.non_executable_binary_to_term(params, [:safe])",
        "def cached(key), do: :erlang.binary_to_term(:persistent_term.get(key))",
        "def load(path), do: path |> File.read!() |> :erlang.binary_to_term()",
        "def default, do: :erlang.binary_to_term(@default_state)",
    ],
)
def test_ot004_ignores_safe_and_internal_decoding(body: str) -> None:
    assert only("OT004", module(body), LIB) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (':erlang.binary_to_term(params["s"])', ':erlang.binary_to_term(params["s"], [:safe])'),
        (
            'params["s"] |> :erlang.binary_to_term()',
            'params["s"] |> :erlang.binary_to_term([:safe])',
        ),
        (
            'params["s"] |> :erlang.binary_to_term',
            'params["s"] |> :erlang.binary_to_term([:safe])',
        ),
    ],
)
def test_ot004_fix_adds_safe(before: str, after: str, elixir_parser: ElixirParser) -> None:
    body = "def decode(conn, params) do\n  state = EXPR\n  {:ok, state}\nend"
    assert_fixed(
        "OT004",
        module(body.replace("EXPR", before)),
        module(body.replace("EXPR", after)),
        elixir_parser,
        path=WEB,
    )


def test_ot004_hover_recommends_the_non_executable_decoder() -> None:
    from analyzers.rules.otp.terms import UNSAFE_BINARY_TO_TERM

    assert "non_executable_binary_to_term" in UNSAFE_BINARY_TO_TERM.rationale
    assert "existing" in UNSAFE_BINARY_TO_TERM.rationale


# --- OT005 unowned-ets -----------------------------------------------------------------------


def test_ot005_flags_a_table_created_inside_a_spawned_process() -> None:
    body = """
    def warm do
      Task.start(fn ->
        :ets.new(:warm_cache, [:named_table, :public])
        fill()
      end)
    end
    """
    source = module(body)
    findings = only("OT005", source, LIB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == ":ets.new"
    assert "`:warm_cache`" in findings[0].message
    assert "inside `Task.start`" in findings[0].message


def test_ot005_flags_a_table_created_in_a_liveview() -> None:
    body = """
    def mount(_params, _session, socket) do
      :ets.new(:presence_cache, [:set, :public, :named_table])
      {:ok, socket}
    end
    """
    findings = only("OT005", module(body, "use MyAppWeb, :live_view"), WEB)
    assert len(findings) == 1
    assert "request/LiveView/channel" in findings[0].message


def test_ot005_flags_a_lazily_created_table() -> None:
    body = """
    def get(key) do
      if :ets.whereis(:rates) == :undefined do
        :ets.new(:rates, [:named_table, :public])
      end

      :ets.lookup(:rates, key)
    end
    """
    findings = only("OT005", module(body), LIB)
    assert len(findings) == 1
    assert "lazily" in findings[0].message


@pytest.mark.parametrize(
    ("header", "body"),
    [
        # The canonical owner: a supervised GenServer's init.
        (
            "use GenServer",
            "def init(_), do: {:ok, :ets.new(__MODULE__, [:named_table, :public])}",
        ),
        # Created at application start.
        (
            "use Application",
            "def start(_t, _a) do\n  :ets.new(:rates, [:named_table, :public])\n"
            "  Supervisor.start_link([], strategy: :one_for_one)\nend",
        ),
        # A private table in a request is the process's own business.
        ("use MyAppWeb, :controller", "def show(conn, _), do: :ets.new(:scratch, [:set])"),
        # A plain helper: who calls it is unknown, so stay quiet.
        ("", "def create_table, do: :ets.new(:rates, [:named_table, :public])"),
    ],
)
def test_ot005_ignores_owned_private_or_unknown_tables(header: str, body: str) -> None:
    assert only("OT005", module(body, header), LIB) == []


# --- OT006 genserver-bottleneck --------------------------------------------------------------

GENSERVER = """
def start_link(opts), do: GenServer.start_link(__MODULE__, opts, {name})

def init(opts), do: {{:ok, opts}}

def handle_call({{:get, id}}, _from, state) do
  {{:reply, {io}, state}}
end
"""


@pytest.mark.parametrize(
    "name",
    [
        "name: __MODULE__",
        "name: :prices",
        "name: MyApp.Prices",
        "name: {:global, __MODULE__}",
        "name: Keyword.get(opts, :name, __MODULE__)",
    ],
)
def test_ot006_flags_io_in_handle_call_of_a_globally_named_server(name: str) -> None:
    body = GENSERVER.format(name=name, io="Repo.get(Price, id)")
    source = module(body, "use GenServer\nalias MyApp.Repo", name="MyApp.Prices")
    findings = only("OT006", source, LIB)
    assert len(findings) == 1
    assert flagged_text(source, findings[0]) == "Repo.get(Price, id)"
    assert "`MyApp.Prices`" in findings[0].message
    assert "queues" in findings[0].message


@pytest.mark.parametrize(
    "io",
    [
        'HTTPoison.get!("https://api.example.com/prices/#{id}")',
        'Req.get!("https://api.example.com", params: [id: id])',
        'File.read!("/data/#{id}")',
        'System.cmd("convert", [id])',
    ],
)
def test_ot006_flags_http_file_and_command_io(io: str) -> None:
    source = module(GENSERVER.format(name="name: __MODULE__", io=io), "use GenServer")
    assert len(only("OT006", source, LIB)) == 1


def test_ot006_follows_a_local_helper_doing_io() -> None:
    body = GENSERVER.format(name="name: __MODULE__", io="load(id)") + (
        "\ndefp load(id), do: MyApp.Repo.get(MyApp.Price, id)\n"
    )
    source = module(body, "use GenServer")
    findings = only("OT006", source, LIB)
    assert len(findings) == 1
    assert "`load`, which calls `MyApp.Repo.get`" in findings[0].message


@pytest.mark.parametrize(
    ("name", "io"),
    [
        # Per-key processes, and unnamed servers, are not one global queue.
        ("name: {:via, Registry, {MyApp.Registry, opts[:id]}}", "Repo.get(Price, id)"),
        ("[]", "Repo.get(Price, id)"),
        ("name: opts[:name]", "Repo.get(Price, id)"),
        # No I/O in handle_call.
        ("name: __MODULE__", "Map.get(state, id)"),
        ("name: __MODULE__", ":ets.lookup(:prices, id)"),
    ],
)
def test_ot006_ignores_per_key_unnamed_or_io_free_servers(name: str, io: str) -> None:
    source = module(GENSERVER.format(name=name, io=io), "use GenServer\nalias MyApp.Repo")
    assert only("OT006", source, LIB) == []


def test_ot006_ignores_io_in_handle_cast_and_in_spawned_tasks() -> None:
    body = """
    def start_link(_), do: GenServer.start_link(__MODULE__, :ok, name: __MODULE__)

    def handle_cast({:refresh, id}, state) do
      MyApp.Repo.get(MyApp.Price, id)
      {:noreply, state}
    end

    def handle_call({:refresh, id}, from, state) do
      Task.Supervisor.start_child(MyApp.TaskSupervisor, fn ->
        GenServer.reply(from, MyApp.Repo.get(MyApp.Price, id))
      end)

      {:noreply, state}
    end
    """
    assert only("OT006", module(body, "use GenServer"), LIB) == []


def test_ot006_ignores_modules_that_are_not_genservers() -> None:
    body = GENSERVER.format(name="name: __MODULE__", io="Repo.get(Price, id)")
    assert only("OT006", module(body, "alias MyApp.Repo"), LIB) == []


def test_safe_patterns_in_the_hover_are_not_flagged() -> None:
    from analyzers.engine import analyze
    from analyzers.registry import all_rules

    rules = [r for r in all_rules() if r.meta.family == "OT" and r.code != "SC003"]
    assert rules
    for rule in rules:
        result = analyze(rule.meta.safe_pattern.encode(), "lib/my_app/example.ex")
        assert [f.code for f in result.findings if f.code[:2] == "OT"] == [], rule.code


def test_a_checkout_under_a_test_directory_is_still_production_code() -> None:
    source = module("def run do\n  spawn(fn -> :ok end)\n  :ok\nend")
    assert len(only("OT001", source, "/home/test/src/my_app/lib/my_app/worker.ex")) == 1
    assert only("OT001", source, "/home/me/my_app/test/support/worker.ex") == []
