"""EC002 fixes: the Ecto.Multi rewrite and the Repo.transaction wrap, shape by shape."""

from __future__ import annotations

from analyzers.model import Finding
from tests.elixir_parser import ElixirParser
from tests.ruletools import assert_fixed, assert_parses, fixed, only

PATH = "lib/my_app/accounts.ex"
MULTI = 0


def accounts(body: str) -> str:
    """A context module whose body is ``body`` (a function, indented two spaces)."""
    lines = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return (
        "defmodule MyApp.Accounts do\n"
        "  alias MyApp.Repo\n"
        "  alias MyApp.Accounts.{Membership, Profile, Team, User}\n"
        "\n"
        f"{lines}\n"
        "end\n"
    )


def finding(body: str) -> Finding:
    """The one EC002 finding of ``body``."""
    [found] = only("EC002", accounts(body), PATH)
    return found


def fixed_to(before: str, after: str, parser: ElixirParser, index: int = 0) -> None:
    """Fix ``index`` of the finding turns ``before`` into ``after`` (both function bodies)."""
    assert_fixed("EC002", accounts(before), accounts(after), parser, path=PATH, index=index)


def test_ok_matches_become_steps_and_the_match_keeps_raising(elixir_parser: ElixirParser) -> None:
    before = """
def create_team(owner, attrs) do
  {:ok, team} = Repo.insert(Team.changeset(%Team{}, attrs))
  {:ok, membership} = Repo.insert(%Membership{team_id: team.id, user_id: owner.id, role: :owner})
  {:ok, {team, membership}}
end
"""
    after = """
def create_team(owner, attrs) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.insert(:team, Team.changeset(%Team{}, attrs))
    |> Ecto.Multi.insert(:membership, fn %{team: team} ->
      %Membership{team_id: team.id, user_id: owner.id, role: :owner}
    end)

  {:ok, %{team: team, membership: membership}} = Repo.transaction(multi)

  {:ok, {team, membership}}
end
"""
    assert [f.title for f in finding(before).fixes] == [
        "Wrap the writes in an Ecto.Multi",
        "Wrap the writes in Repo.transaction",
    ]
    fixed_to(before, after, elixir_parser)


def test_with_chain_keeps_ok_and_error_results(elixir_parser: ElixirParser) -> None:
    before = """
def register(attrs) do
  with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)),
       {:ok, profile} <- Repo.insert(Profile.changeset(%Profile{user_id: user.id}, attrs)) do
    {:ok, %{user | profile: profile}}
  end
end
"""
    after = """
def register(attrs) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.insert(:user, User.changeset(%User{}, attrs))
    |> Ecto.Multi.insert(:profile, fn %{user: user} ->
      Profile.changeset(%Profile{user_id: user.id}, attrs)
    end)

  case Repo.transaction(multi) do
    {:ok, %{user: user, profile: profile}} ->
      {:ok, %{user | profile: profile}}

    {:error, _step, error, _changes} ->
      {:error, error}
  end
end
"""
    fixed_to(before, after, elixir_parser)


def test_bang_functions_still_raise_and_return_the_record(elixir_parser: ElixirParser) -> None:
    before = """
def register!(attrs) do
  user = Repo.insert!(User.registration_changeset(%User{}, attrs))
  Repo.insert!(%Profile{user_id: user.id})
  user
end
"""
    after = """
def register!(attrs) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.insert(:user, User.registration_changeset(%User{}, attrs))
    |> Ecto.Multi.insert(:insert_profile, fn %{user: user} ->
      %Profile{user_id: user.id}
    end)

  {:ok, %{user: user}} = Repo.transaction(multi)

  user
end
"""
    fixed_to(before, after, elixir_parser)


def test_pipelines_into_writes(elixir_parser: ElixirParser) -> None:
    before = """
def invite(team, attrs) do
  %User{}
  |> User.invite_changeset(attrs)
  |> Repo.insert!()

  team
  |> Team.changeset(%{invites_count: team.invites_count + 1})
  |> Repo.update!()
end
"""
    after = """
def invite(team, attrs) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.insert(
      :insert_user,
      %User{}
      |> User.invite_changeset(attrs)
    )
    |> Ecto.Multi.update(
      :update_team,
      team
      |> Team.changeset(%{invites_count: team.invites_count + 1})
    )

  {:ok, %{update_team: update_team}} = Repo.transaction(multi)

  update_team
end
"""
    fixed_to(before, after, elixir_parser)


def test_update_using_the_inserted_record(elixir_parser: ElixirParser) -> None:
    before = """
def promote(user, team) do
  {:ok, user} = Repo.update(User.changeset(user, %{role: :admin}))
  {:ok, team} = Repo.update(Team.changeset(team, %{admin_id: user.id}))
  {user, team}
end
"""
    after = """
def promote(user, team) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.update(:user, User.changeset(user, %{role: :admin}))
    |> Ecto.Multi.update(:team, fn %{user: user} ->
      Team.changeset(team, %{admin_id: user.id})
    end)

  {:ok, %{user: user, team: team}} = Repo.transaction(multi)

  {user, team}
end
"""
    fixed_to(before, after, elixir_parser)


def test_deletes_return_the_last_result_tuple(elixir_parser: ElixirParser) -> None:
    before = """
def delete_user(user) do
  Repo.delete_all(Ecto.assoc(user, :memberships))
  Repo.delete(user)
end
"""
    after = """
def delete_user(user) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.delete_all(:delete_all_memberships, Ecto.assoc(user, :memberships))
    |> Ecto.Multi.delete(:delete_user, user)

  case Repo.transaction(multi) do
    {:ok, %{delete_user: delete_user}} ->
      {:ok, delete_user}

    {:error, _step, error, _changes} ->
      {:error, error}
  end
end
"""
    fixed_to(before, after, elixir_parser)


def test_writes_mixed_with_other_code(elixir_parser: ElixirParser) -> None:
    before = """
def sign_up(attrs) do
  now = DateTime.utc_now()
  {:ok, user} = Repo.insert(User.changeset(%User{}, Map.put(attrs, "confirmed_at", now)))
  token = MyApp.Token.generate(user)
  {:ok, _profile} = Repo.insert(%Profile{user_id: user.id, token: token})
  MyApp.Mailer.deliver_welcome(user, token)
  {:ok, user}
end
"""
    after = """
def sign_up(attrs) do
  now = DateTime.utc_now()
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.insert(:user, User.changeset(%User{}, Map.put(attrs, "confirmed_at", now)))
    |> Ecto.Multi.run(:token, fn _repo, %{user: user} ->
      {:ok, MyApp.Token.generate(user)}
    end)
    |> Ecto.Multi.insert(:profile, fn %{user: user, token: token} ->
      %Profile{user_id: user.id, token: token}
    end)

  {:ok, %{user: user, token: token}} = Repo.transaction(multi)

  MyApp.Mailer.deliver_welcome(user, token)
  {:ok, user}
end
"""
    fixed_to(before, after, elixir_parser)


def test_independent_bindings_move_before_the_multi(elixir_parser: ElixirParser) -> None:
    before = """
def rename(user, team, name) do
  {:ok, team} = Repo.update(Team.changeset(team, %{name: name}))
  slug = Slug.slugify(name)
  {:ok, _user} = Repo.update(User.changeset(user, %{team_slug: slug}))
  team
end
"""
    after = """
def rename(user, team, name) do
  slug = Slug.slugify(name)
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.update(:team, Team.changeset(team, %{name: name}))
    |> Ecto.Multi.update(:user, User.changeset(user, %{team_slug: slug}))

  {:ok, %{team: team}} = Repo.transaction(multi)

  team
end
"""
    fixed_to(before, after, elixir_parser)


def test_only_the_transaction_wrap_fits_a_loop(elixir_parser: ElixirParser) -> None:
    before = """
def archive(team, users) do
  Enum.each(users, fn user -> Repo.update!(User.changeset(user, %{team_id: nil})) end)
  Repo.delete(team)
end
"""
    after = """
def archive(team, users) do
  Repo.transaction(fn ->
    Enum.each(users, fn user -> Repo.update!(User.changeset(user, %{team_id: nil})) end)
    result = Repo.delete(team)

    case result do
      {:ok, value} -> value
      {:error, reason} -> Repo.rollback(reason)
    end
  end)
end
"""
    assert [f.title for f in finding(before).fixes] == ["Wrap the writes in Repo.transaction"]
    fixed_to(before, after, elixir_parser)


def test_transaction_wrap_of_a_with_rolls_back_errors(elixir_parser: ElixirParser) -> None:
    before = """
def register(attrs) do
  with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)),
       :ok <- MyApp.Captcha.verify(attrs),
       {:ok, _} <- Repo.insert(%Profile{user_id: user.id}) do
    {:ok, user}
  end
end
"""
    after = """
def register(attrs) do
  Repo.transaction(fn ->
    result =
      with {:ok, user} <- Repo.insert(User.changeset(%User{}, attrs)),
           :ok <- MyApp.Captcha.verify(attrs),
           {:ok, _} <- Repo.insert(%Profile{user_id: user.id}) do
        {:ok, user}
      end

    case result do
      {:ok, value} -> value
      {:error, reason} -> Repo.rollback(reason)
    end
  end)
end
"""
    fixed_to(before, after, elixir_parser)


def test_transaction_wrap_of_bang_code_unwraps_the_value(elixir_parser: ElixirParser) -> None:
    before = """
def reset!(user) do
  Repo.delete_all(Ecto.assoc(user, :sessions))
  if user.admin?, do: MyApp.Audit.log(user)
  Repo.update!(User.changeset(user, %{password_hash: nil}))
end
"""
    after = """
def reset!(user) do
  {:ok, result} =
    Repo.transaction(fn ->
      Repo.delete_all(Ecto.assoc(user, :sessions))
      if user.admin?, do: MyApp.Audit.log(user)
      Repo.update!(User.changeset(user, %{password_hash: nil}))
    end)

  result
end
"""
    fixed_to(before, after, elixir_parser)


def test_transaction_wrap_of_an_ok_tuple_returns_it_from_the_transaction(
    elixir_parser: ElixirParser,
) -> None:
    before = """
def create_team(owner, attrs) do
  {:ok, team} = Repo.insert(Team.changeset(%Team{}, attrs))
  {:ok, _} = Repo.insert(%Membership{team_id: team.id, user_id: owner.id})
  {:ok, team}
end
"""
    after = """
def create_team(owner, attrs) do
  Repo.transaction(fn ->
    {:ok, team} = Repo.insert(Team.changeset(%Team{}, attrs))
    {:ok, _} = Repo.insert(%Membership{team_id: team.id, user_id: owner.id})
    team
  end)
end
"""
    fixed_to(before, after, elixir_parser, index=1)


def test_aliased_multi_and_statements_before_the_writes_stay(elixir_parser: ElixirParser) -> None:
    before = """
alias Ecto.Multi

def transfer(from, to, amount) do
  amount = Decimal.new(amount)
  Repo.update!(MyApp.Account.debit(from, amount))
  Repo.update!(MyApp.Account.credit(to, amount))
  :ok
end
"""
    after = """
alias Ecto.Multi

def transfer(from, to, amount) do
  amount = Decimal.new(amount)
  multi =
    Multi.new()
    |> Multi.update(:update_from, MyApp.Account.debit(from, amount))
    |> Multi.update(:update_to, MyApp.Account.credit(to, amount))

  {:ok, _changes} = Repo.transaction(multi)

  :ok
end
"""
    fixed_to(before, after, elixir_parser)


def test_no_multi_when_the_function_has_a_multi_variable() -> None:
    before = """
def apply(multi, user) do
  Repo.update!(User.changeset(user, %{multi: multi}))
  Repo.insert!(%Profile{user_id: user.id})
end
"""
    assert [f.title for f in finding(before).fixes] == ["Wrap the writes in Repo.transaction"]


def test_an_ignored_last_result_is_named_after_its_step(elixir_parser: ElixirParser) -> None:
    before = """
def join(team, user) do
  {:ok, _} = Repo.update(Team.changeset(team, %{size: team.size + 1}))
  {:ok, _} = Repo.insert(%Membership{team_id: team.id, user_id: user.id})
end
"""
    after = """
def join(team, user) do
  multi =
    Ecto.Multi.new()
    |> Ecto.Multi.update(:update_team, Team.changeset(team, %{size: team.size + 1}))
    |> Ecto.Multi.insert(:insert_membership, %Membership{team_id: team.id, user_id: user.id})

  {:ok, %{insert_membership: insert_membership}} = Repo.transaction(multi)

  {:ok, insert_membership}
end
"""
    fixed_to(before, after, elixir_parser)


def test_crlf_files_keep_their_line_endings(elixir_parser: ElixirParser) -> None:
    before = accounts(
        """
def delete_user(user) do
  Repo.delete_all(Ecto.assoc(user, :memberships))
  Repo.delete(user)
end
"""
    ).replace("\n", "\r\n")
    [found] = only("EC002", before, PATH)
    result = fixed(before, found)
    assert "\n" not in result.replace("\r\n", "")
    assert "Ecto.Multi.delete(:delete_user, user)\r\n" in result
    assert_parses(result, elixir_parser)
