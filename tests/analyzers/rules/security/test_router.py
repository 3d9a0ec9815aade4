"""SC001 browser-pipeline-without-csrf, SC002 browser-pipeline-without-secure-headers,
and the router/endpoint facts they read."""

from __future__ import annotations

import pytest

from analyzers.edits import apply_edits, compatible_fixes
from analyzers.facts import FactIndex
from analyzers.model import Severity
from analyzers.parsing import parse_elixir
from analyzers.project import ProjectFacts
from analyzers.rules.security.router_facts import ROUTER_FACTS, RouterFacts, read_router
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, assert_parses, check, dedent, flagged_text, only

ROUTER = "lib/my_app_web/router.ex"

BROWSER_PLUGS = """\
plug :accepts, ["html"]
plug :fetch_session
plug :fetch_live_flash
plug :put_root_layout, html: {MyAppWeb.Layouts, :root}"""


def router(*parts: str) -> str:
    """A router module whose body is ``parts`` (each unindented), separated by blank lines."""
    body = "\n\n".join(
        "\n".join("  " + line if line else "" for line in dedent(part).splitlines())
        for part in parts
    )
    return f"defmodule MyAppWeb.Router do\n  use MyAppWeb, :router\n\n{body}\nend\n"


def pipeline(name: str, *plugs: str) -> str:
    lines = "\n".join("  " + line for p in plugs for line in dedent(p).splitlines())
    return f"pipeline :{name} do\n{lines}\nend"


def scope(path: str, pipe_through: str, *inner: str) -> str:
    lines = [f'scope "{path}", MyAppWeb do', f"  pipe_through {pipe_through}"]
    for part in inner or ('get "/", PageController, :home',):
        lines += ["  " + line for line in dedent(part).splitlines()]
    return "\n".join(lines) + "\nend"


def facts_with_endpoint_plugs(*plugs: str) -> ProjectFacts:
    return ProjectFacts(root=".", extras={ROUTER_FACTS: RouterFacts(frozenset(plugs))})


# --- flagged --------------------------------------------------------------------------------


def test_flags_a_browser_pipeline_without_csrf_or_headers() -> None:
    source = router(pipeline("browser", BROWSER_PLUGS), scope("/", ":browser"))
    csrf = only("SC001", source, ROUTER)
    headers = only("SC002", source, ROUTER)
    assert len(csrf) == 1 and len(headers) == 1
    assert flagged_text(source, csrf[0]) == "pipeline :browser"
    assert csrf[0].severity is Severity.ERROR
    assert headers[0].severity is Severity.WARNING
    assert "`:browser`" in csrf[0].message and 'scope "/"' in csrf[0].message
    assert "`:protect_from_forgery`" in csrf[0].message
    assert "`:put_secure_browser_headers`" in headers[0].message


def test_flags_the_scope_where_the_pipeline_lacks_a_partner() -> None:
    source = router(
        pipeline("browser", BROWSER_PLUGS, "plug :put_secure_browser_headers"),
        pipeline("csrf", "plug :protect_from_forgery"),
        scope("/", "[:browser, :csrf]"),
        scope("/legacy", ":browser"),
    )
    findings = only("SC001", source, ROUTER)
    assert len(findings) == 1
    assert 'scope "/legacy"' in findings[0].message
    assert 'scope "/",' not in findings[0].message


def test_flags_a_second_html_pipeline_accepting_several_formats() -> None:
    source = router(
        pipeline(
            "browser",
            BROWSER_PLUGS,
            "plug :protect_from_forgery",
            "plug :put_secure_browser_headers",
        ),
        pipeline("embed", 'plug :accepts, ["html", "js"]', "plug :fetch_session"),
        scope("/", ":browser"),
        scope("/embed", ":embed"),
    )
    assert [flagged_text(source, f) for f in only("SC001", source, ROUTER)] == ["pipeline :embed"]
    assert [flagged_text(source, f) for f in only("SC002", source, ROUTER)] == ["pipeline :embed"]


def test_reads_formats_written_as_a_word_list() -> None:
    source = router(pipeline("browser", "plug :accepts, ~w(html json)", "plug :fetch_session"))
    assert len(only("SC001", source, ROUTER)) == 1
    api = router(pipeline("api", "plug :accepts, ~w(json)", "plug :fetch_session"))
    assert only("SC001", api, ROUTER) == []


def test_flags_an_unused_browser_pipeline_by_its_own_plugs() -> None:
    source = router(pipeline("browser", BROWSER_PLUGS))
    findings = only("SC001", source, ROUTER)
    assert len(findings) == 1
    assert "it does not plug `:protect_from_forgery`" in findings[0].message


# --- not flagged ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        # The generated browser pipeline.
        (
            pipeline(
                "browser",
                BROWSER_PLUGS,
                "plug :protect_from_forgery",
                "plug :put_secure_browser_headers",
            ),
            scope("/", ":browser"),
        ),
        # CSRF and headers from another pipeline piped through in the same scope.
        (
            pipeline("browser", BROWSER_PLUGS),
            pipeline("protected", "plug :protect_from_forgery", "plug :put_secure_browser_headers"),
            scope("/", "[:browser, :protected]"),
        ),
        # ... or by an enclosing scope.
        (
            pipeline("browser", BROWSER_PLUGS),
            pipeline("protected", "plug :protect_from_forgery", "plug :put_secure_browser_headers"),
            scope("/", ":protected", scope("/app", ":browser")),
        ),
        # ... or by a pipeline the browser pipeline plugs by name.
        (
            pipeline("protected", "plug :protect_from_forgery", "plug :put_secure_browser_headers"),
            pipeline("browser", BROWSER_PLUGS, "plug :protected"),
            scope("/", ":browser"),
        ),
        # Plug's own module and a custom security-headers plug.
        (
            pipeline(
                "browser", BROWSER_PLUGS, "plug Plug.CSRFProtection", "plug MyAppWeb.SecureHeaders"
            ),
            scope("/", ":browser"),
        ),
        # JSON APIs and session-less HTML are not browser pipelines.
        (pipeline("api", 'plug :accepts, ["json"]', "plug :fetch_session"), scope("/api", ":api")),
        (pipeline("public", 'plug :accepts, ["html"]'), scope("/", ":public")),
    ],
)
def test_ignores_protected_and_non_browser_pipelines(parts: tuple[str, ...]) -> None:
    source = router(*parts)
    assert only("SC001", source, ROUTER) == []
    assert only("SC002", source, ROUTER) == []


def test_a_parent_scope_without_routes_does_not_count_on_its_own() -> None:
    source = router(
        pipeline("browser", BROWSER_PLUGS, "plug :put_secure_browser_headers"),
        pipeline("csrf", "plug :protect_from_forgery"),
        'scope "/", MyAppWeb do\n  pipe_through :browser\n\n'
        '  scope "/app" do\n    pipe_through :csrf\n    get "/", PageController, :home\n  end\nend',
    )
    assert only("SC001", source, ROUTER) == []


@pytest.mark.parametrize("plug", [":put_secure_browser_headers", "MyAppWeb.Plugs.SecurityHeaders"])
def test_sc002_is_satisfied_by_headers_set_in_the_endpoint(plug: str) -> None:
    source = router(pipeline("browser", BROWSER_PLUGS, "plug :protect_from_forgery"))
    facts = facts_with_endpoint_plugs("Plug.RequestId", plug)
    assert only("SC002", source, ROUTER, facts=facts) == []
    other = facts_with_endpoint_plugs("Plug.RequestId", "Plug.Head")
    assert len(only("SC002", source, ROUTER, facts=other)) == 1


def test_endpoint_plugs_are_collected_from_the_workspace() -> None:
    endpoint = dedent(
        """
        defmodule MyAppWeb.Endpoint do
          use Phoenix.Endpoint, otp_app: :my_app

          plug Plug.RequestId
          plug :put_secure_browser_headers
          plug MyAppWeb.Router
        end
        """
    ).encode()
    index = FactIndex("/p")
    index.update("/p/lib/my_app_web/endpoint.ex", endpoint)
    found = index.facts().get(ROUTER_FACTS)
    assert isinstance(found, RouterFacts)
    assert ":put_secure_browser_headers" in found.endpoint_plugs
    index.update("/p/lib/my_app_web/router.ex", router(pipeline("browser", BROWSER_PLUGS)).encode())
    routers = index.facts().get(ROUTER_FACTS).routers
    assert [p.name for p in routers["/p/lib/my_app_web/router.ex"].pipelines] == ["browser"]
    source = router(pipeline("browser", BROWSER_PLUGS, "plug :protect_from_forgery"))
    assert only("SC002", source, ROUTER, facts=index.facts()) == []
    # The header plug is removed from the endpoint in the editor: the router is flagged again.
    index.update("/p/lib/my_app_web/endpoint.ex", endpoint.replace(b"put_secure", b"put_other"))
    assert len(only("SC002", source, ROUTER, facts=index.facts())) == 1


def test_router_facts_read_pipelines_and_nested_scopes() -> None:
    source = router(
        pipeline("browser", BROWSER_PLUGS),
        pipeline("auth", "plug MyAppWeb.RequireUser"),
        scope("/", ":browser", scope("/account", ":auth")),
    )
    model = read_router(parse_elixir(source.encode()).root_node)
    assert [p.name for p in model.pipelines] == ["browser", "auth"]
    assert model.pipelines[0].accepts_html and model.pipelines[0].has(":fetch_session")
    assert [(s.path, s.pipelines) for s in model.scopes] == [
        ("/", ("browser",)),
        ("/account", ("browser", "auth")),
    ]


def test_a_file_without_a_router_is_quiet() -> None:
    assert [f for f in check("defmodule A do\nend\n", ROUTER) if f.code.startswith("SC")] == []


# --- fixes ----------------------------------------------------------------------------------


def test_sc001_fix_adds_the_plug_after_the_session_plugs(elixir_parser: ElixirParser) -> None:
    before = router(
        pipeline("browser", BROWSER_PLUGS, "plug :put_secure_browser_headers"),
        scope("/", ":browser"),
    )
    after = router(
        pipeline(
            "browser",
            'plug :accepts, ["html"]\nplug :fetch_session\nplug :fetch_live_flash\n'
            "plug :protect_from_forgery\n"
            "plug :put_root_layout, html: {MyAppWeb.Layouts, :root}\n"
            "plug :put_secure_browser_headers",
        ),
        scope("/", ":browser"),
    )
    assert_fixed("SC001", before, after, elixir_parser, path=ROUTER)


def test_sc002_fix_goes_after_csrf_protection_and_keeps_comments(
    elixir_parser: ElixirParser,
) -> None:
    before = router(
        pipeline(
            "browser",
            'plug :accepts, ["html"]\nplug :fetch_session\n'
            "plug :protect_from_forgery # forms\nplug MyAppWeb.Plugs.LoadUser",
        ),
        scope("/", ":browser"),
    )
    after = router(
        pipeline(
            "browser",
            'plug :accepts, ["html"]\nplug :fetch_session\n'
            "plug :protect_from_forgery # forms\nplug :put_secure_browser_headers\n"
            "plug MyAppWeb.Plugs.LoadUser",
        ),
        scope("/", ":browser"),
    )
    assert_fixed("SC002", before, after, elixir_parser, path=ROUTER)


def test_both_fixes_together_keep_phoenix_order(elixir_parser: ElixirParser) -> None:
    source = router(
        pipeline("browser", 'plug :accepts, ["html"]', "plug :fetch_session"),
        scope("/", ":browser"),
    )
    findings = [f for f in check(source, ROUTER) if f.code in {"SC001", "SC002"}]
    assert [f.code for f in findings] == ["SC001", "SC002"]
    fixes = compatible_fixes(findings)
    edits = [e for fix in fixes for e in fix.edits]
    result = apply_edits(dedent(source).encode(), edits).decode()
    expected = router(
        pipeline(
            "browser",
            'plug :accepts, ["html"]',
            "plug :fetch_session",
            "plug :protect_from_forgery",
            "plug :put_secure_browser_headers",
        ),
        scope("/", ":browser"),
    )
    assert result == expected
    assert_parses(result, elixir_parser)
    assert [f for f in check(result, ROUTER) if f.code.startswith("SC")] == []


def test_fix_follows_crlf_line_endings() -> None:
    source = router(
        pipeline("browser", 'plug :accepts, ["html"]', "plug :fetch_session"),
        scope("/", ":browser"),
    ).replace("\n", "\r\n")
    finding = only("SC001", source, ROUTER)[0]
    result = apply_edits(source.encode(), finding.fixes[0].edits).decode()
    assert "plug :fetch_session\r\n    plug :protect_from_forgery\r\n  end" in result


def test_safe_patterns_in_the_hover_are_not_flagged() -> None:
    from analyzers.engine import analyze
    from analyzers.registry import all_rules

    rules = [r for r in all_rules() if r.meta.family == "SC" and r.code != "SC003"]
    assert rules
    for rule in rules:
        result = analyze(rule.meta.safe_pattern.encode(), "lib/my_app/example.ex")
        assert [f.code for f in result.findings if f.code[:2] == "SC"] == [], rule.code
