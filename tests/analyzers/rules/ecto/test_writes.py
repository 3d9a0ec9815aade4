"""EC002 multi-write-without-transaction: detection."""

from __future__ import annotations

import pytest

from analyzers.model import Severity
from analyzers.project import ProjectFacts, RepoFacts
from tests.ruletools import flagged_text, only

PATH = "lib/my_app/accounts.ex"


def accounts(body: str, *, header: str = "") -> str:
    """A context module whose body is ``body``."""
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        "defmodule MyApp.Accounts do\n"
        "  alias MyApp.Repo\n"
        "  alias MyApp.Accounts.{Profile, User}\n"
        f"{header}"
        "\n"
        f"{lines}\n"
        "end\n"
    )


def ec002(source: str, path: str = PATH, **kwargs: object) -> list[str]:
    """Texts flagged by EC002 (function heads)."""
    return [flagged_text(source, f) for f in only("EC002", source, path, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        (
            "def register(attrs) do\n"
            "  {:ok, user} = Repo.insert(User.changeset(%User{}, attrs))\n"
            "  Repo.insert!(%Profile{user_id: user.id})\n"
            "end",
            "register(attrs)",
        ),
        (
            "def register(attrs) do\n"
            "  with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)),\n"
            "       {:ok, _} <- Repo.insert(%Profile{user_id: user.id}) do\n"
            "    {:ok, user}\n"
            "  end\n"
            "end",
            "register(attrs)",
        ),
        (
            # A rename then an insert in the found-user branch is a run.
            "def sync(gh_user) do\n"
            "  case Repo.get_by(User, login: gh_user.login) do\n"
            "    nil -> Repo.insert!(%User{xref: gh_user.id})\n"
            "    user ->\n"
            '      Repo.update!(User.changeset(user, %{login: "renamed"}))\n'
            "      Repo.insert!(%User{xref: gh_user.id})\n"
            "  end\n"
            "end",
            "sync(gh_user)",
        ),
        (
            # Sequential writes in the same branch are still a run.
            "def close(user, delete?) do\n"
            "  if delete? do\n"
            "    Repo.delete_all(Ecto.assoc(user, :sessions))\n"
            "    Repo.delete!(user)\n"
            "  end\n"
            "end",
            "close(user, delete?)",
        ),
        (
            "defp reset(user) when is_map(user) do\n"
            "  Repo.update_all(Ecto.assoc(user, :tokens), set: [revoked: true])\n"
            "  user |> User.changeset(%{password: nil}) |> MyApp.Repo.update()\n"
            "end",
            "reset(user) when is_map(user)",
        ),
    ],
)
def test_runs_of_writes_are_flagged(body: str, flagged: str) -> None:
    source = accounts(body)
    assert ec002(source) == [flagged]
    [finding] = only("EC002", source, PATH)
    assert finding.severity is Severity.WARNING


def test_message_names_function_and_writes() -> None:
    source = accounts(
        "def register(attrs) do\n"
        "  {:ok, user} = Repo.insert(User.changeset(%User{}, attrs))\n"
        "  Repo.insert!(%Profile{user_id: user.id})\n"
        "end"
    )
    [finding] = only("EC002", source, PATH)
    assert finding.message.startswith(
        "`register/1` makes 2 writes (`Repo.insert`, `Repo.insert!`) outside a transaction"
    )


@pytest.mark.parametrize(
    "body",
    [
        # One write.
        "def create(attrs), do: %User{} |> User.changeset(attrs) |> Repo.insert()",
        # Writes in different branches are alternatives.
        "def save(user, attrs) do\n"
        "  case user do\n"
        "    nil -> Repo.insert(User.changeset(%User{}, attrs))\n"
        "    user -> Repo.update(User.changeset(user, attrs))\n"
        "  end\n"
        "end",
        "def save(user, attrs) do\n"
        "  if user, do: Repo.update(User.changeset(user, attrs)), else: Repo.insert(User.changeset(%User{}, attrs))\n"
        "end",
        "def save(attrs) do\n"
        "  with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)) do\n"
        "    {:ok, user}\n"
        "  else\n"
        "    {:error, changeset} -> Repo.insert(%MyApp.Audit{error: inspect(changeset)})\n"
        "  end\n"
        "end",
        "def save(attrs) do\n"
        "  Repo.insert!(User.changeset(%User{}, attrs))\n"
        "rescue\n"
        "  error -> Repo.insert!(%MyApp.Audit{error: inspect(error)})\n"
        "end",
        # Already transactional.
        "def register(attrs) do\n"
        "  Repo.transaction(fn ->\n"
        "    user = Repo.insert!(User.changeset(%User{}, attrs))\n"
        "    Repo.insert!(%Profile{user_id: user.id})\n"
        "  end)\n"
        "end",
        "def register(attrs) do\n"
        "  Repo.transact(fn ->\n"
        "    with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)),\n"
        "         {:ok, _} <- Repo.insert(%Profile{user_id: user.id}) do\n"
        "      {:ok, user}\n"
        "    end\n"
        "  end)\n"
        "end",
        "def register(attrs) do\n"
        "  Ecto.Multi.new()\n"
        "  |> Ecto.Multi.insert(:user, User.changeset(%User{}, attrs))\n"
        "  |> Ecto.Multi.run(:profile, fn repo, %{user: user} ->\n"
        "    repo.insert(%Profile{user_id: user.id})\n"
        "  end)\n"
        "  |> Ecto.Multi.run(:audit, fn _repo, _ -> Repo.insert(%MyApp.Audit{}) end)\n"
        "  |> Repo.transaction()\n"
        "end",
        # A helper only called inside a transaction in this module.
        "def register(attrs), do: Repo.transaction(fn -> do_register(attrs) end)\n"
        "defp do_register(attrs) do\n"
        "  user = Repo.insert!(User.changeset(%User{}, attrs))\n"
        "  Repo.insert!(%Profile{user_id: user.id})\n"
        "end",
        # Helpers run as Multi steps.
        "def register(attrs) do\n"
        "  Ecto.Multi.new()\n"
        "  |> Ecto.Multi.run(:user, &create_user(&1, &2, attrs))\n"
        "  |> Ecto.Multi.run(:profile, __MODULE__, :create_profile, [])\n"
        "  |> Repo.transaction()\n"
        "end\n"
        "defp create_user(_repo, _changes, attrs) do\n"
        "  {:ok, user} = Repo.insert(User.changeset(%User{}, attrs))\n"
        "  Repo.update(User.changeset(user, %{confirmed: true}))\n"
        "end\n"
        "def create_profile(_repo, %{user: user}) do\n"
        "  Repo.insert!(%Profile{user_id: user.id})\n"
        "  Repo.update(User.changeset(user, %{has_profile: true}))\n"
        "end",
        # One write call site in a loop.
        "def import(rows), do: Enum.each(rows, &Repo.insert!(User.changeset(%User{}, &1)))",
        # Idempotent "create if missing" steps.
        "def setup do\n"
        '  unless Repo.get(User, 1), do: Repo.insert!(%User{id: 1, name: "admin"})\n'
        "  unless Repo.get_by(Profile, user_id: 1), do: Repo.insert!(%Profile{user_id: 1})\n"
        "end",
        "def sign_in(gh_user) do\n"
        "  user =\n"
        "    case Repo.get_by(User, xref: gh_user.id) do\n"
        "      nil -> Repo.insert!(%User{xref: gh_user.id, login: gh_user.login})\n"
        "      user -> user\n"
        "    end\n"
        "\n"
        "  if user.login != gh_user.login do\n"
        "    Repo.update!(User.changeset(user, %{login: gh_user.login}))\n"
        "  else\n"
        "    user\n"
        "  end\n"
        "end",
        # Reads do not count.
        "def touch(id) do\n"
        "  user = Repo.get!(User, id)\n"
        "  Repo.update!(User.changeset(user, %{seen_at: DateTime.utc_now()}))\n"
        "end",
    ],
)
def test_not_flagged(body: str) -> None:
    assert ec002(accounts(body, header="  import Ecto.Query\n")) == []


def test_a_module_named_repo_that_is_not_an_ecto_repo() -> None:
    source = (
        "defmodule MyApp.Git.Repo do\n"
        '  def insert(path), do: File.write!(path, "")\n'
        "  def delete(path), do: File.rm!(path)\n"
        "end\n"
        "\n"
        "defmodule MyApp.Git do\n"
        "  alias MyApp.Git.Repo\n"
        "  def replace(path) do\n"
        "    Repo.delete(path)\n"
        "    Repo.insert(path)\n"
        "  end\n"
        "end\n"
    )
    assert ec002(source) == []
    facts = ProjectFacts(root=".", repos={"MyApp.Repo": RepoFacts("MyApp.Repo")})
    assert ec002(source, facts=facts) == []


def test_scripts_are_not_checked() -> None:
    source = accounts("def seed do\n  Repo.insert!(%User{})\n  Repo.insert!(%Profile{})\nend")
    assert ec002(source, "priv/repo/seeds.exs") == []
    assert ec002(source, "test/support/fixtures.ex") == []
    task = source.replace("defmodule MyApp.Accounts do", "defmodule Mix.Tasks.MyApp.Seed do")
    assert ec002(task, "lib/mix/tasks/my_app.seed.ex") == []
    assert ec002(source) != []
