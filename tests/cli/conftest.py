"""Fixtures for CLI tests: a small Phoenix-like project on disk and a throwaway test rule."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzers import registry
from analyzers.context import FileContext
from analyzers.model import Edit, Finding, Fix, RuleMeta, Severity
from server.cli.main import main

INDEX_MIGRATION = "priv/repo/migrations/20240201000000_add_email_index.exs"
REMOVE_MIGRATION = "priv/repo/migrations/20240301000000_drop_legacy_score.exs"
JSON_MIGRATION = "priv/repo/migrations/20240401000000_add_metadata.exs"

PROJECT_FILES = {
    "mix.exs": """
        defmodule App.MixProject do
          use Mix.Project

          def project, do: [app: :app, version: "0.1.0"]
        end
    """,
    "config/config.exs": """
        import Config

        config :app, App.Repo, adapter: Ecto.Adapters.Postgres
    """,
    "lib/app/repo.ex": """
        defmodule App.Repo do
          use Ecto.Repo, otp_app: :app, adapter: Ecto.Adapters.Postgres
        end
    """,
    "priv/repo/migrations/20240101000000_create_users.exs": """
        defmodule App.Repo.Migrations.CreateUsers do
          use Ecto.Migration

          def change do
            create table(:users) do
              add :email, :string
              add :legacy_score, :integer
            end

            create index(:users, [:email])
          end
        end
    """,
    INDEX_MIGRATION: """
        defmodule App.Repo.Migrations.AddEmailIndex do
          use Ecto.Migration

          def change do
            create index(:users, [:email])
          end
        end
    """,
    REMOVE_MIGRATION: """
        defmodule App.Repo.Migrations.DropLegacyScore do
          use Ecto.Migration

          def change do
            alter table(:users) do
              remove :legacy_score, :integer
            end
          end
        end
    """,
    JSON_MIGRATION: """
        defmodule App.Repo.Migrations.AddMetadata do
          use Ecto.Migration

          def change do
            alter table(:users) do
              add :metadata, :json
            end
          end
        end
    """,
    # Dependencies are not the project's code: skipped by the default excludes.
    "deps/other/priv/repo/migrations/20200101000000_dep.exs": """
        defmodule Other.Repo.Migrations.Dep do
          use Ecto.Migration

          def change do
            alter table(:things) do
              add :payload, :json
            end
          end
        end
    """,
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Write dedented ``files`` (relative path -> text) under ``root``."""
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with MG001, MG008 and MG012 migrations; the current directory is its root."""
    root = tmp_path / "app"
    write_tree(root, PROJECT_FILES)
    monkeypatch.chdir(root)
    return root


@dataclass
class Run:
    """What one in-process ``phxguard`` invocation did."""

    status: int
    out: str
    err: str


Runner = Callable[..., Run]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Runner:
    """Call ``main(argv)`` in-process and capture its output."""

    def invoke(*argv: str) -> Run:
        capsys.readouterr()
        status = main(list(argv))
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return invoke


TEST_META = RuleMeta(
    code="ZZ901",
    slug="danger-call",
    title="`danger_call` is dangerous",
    severity=Severity.WARNING,
    rationale="A rule that exists only in the CLI tests, so output formats can be pinned exactly.",
    safe_pattern="safe_call(x)",
    fix_title="Use `safe_call`",
)
NOTES_FILE = "lib/notes.ex"


def _test_rule(ctx: FileContext) -> Iterable[Finding]:
    for match in re.finditer(rb"danger_call", ctx.source):
        fix = Fix(
            "Use `safe_call`",
            (
                Edit(match.start(), match.end(), "safe_call"),
                # The second line of the notes file: proves positions are computed on its bytes.
                Edit(6, 6, "# checked\n", path=NOTES_FILE),
            ),
        )
        yield ctx.finding(TEST_META, (match.start(), match.end()), "`danger_call` here", [fix])


@pytest.fixture
def test_rule() -> Iterator[RuleMeta]:
    """Register ZZ901 for one test, then remove it from the registry."""
    registry.register(TEST_META)(_test_rule)
    try:
        yield TEST_META
    finally:
        registry.unregister(TEST_META.code)
