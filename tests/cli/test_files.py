"""Workspace discovery (``server.files``) and odd files: excludes, links, bad bytes, unreadable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from analyzers.config import DEFAULT_EXCLUDE
from server.files import discover, matches_exclude
from tests.cli.conftest import JSON_MIGRATION, PROJECT_FILES, Runner, write_tree


def rel(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_walks_elixir_and_heex_files_only(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "lib/a.ex": "",
            "lib/page.html.heex": "",
            "test/a_test.exs": "",
            "README.md": "",
            "lib/notes.txt": "",
            ".git/hooks/x.ex": "",
        },
    )
    found = discover([tmp_path], root=tmp_path, exclude=DEFAULT_EXCLUDE)
    assert rel(found.files, tmp_path) == ["lib/a.ex", "lib/page.html.heex", "test/a_test.exs"]
    assert found.problems == [] and found.missing == []


def test_default_and_configured_excludes(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "deps/dep/lib/d.ex": "",
            "_build/dev/x.ex": "",
            "assets/node_modules/x/y.ex": "",
            "lib/a.ex": "",
            "lib/gen/b.gen.ex": "",
            "priv/legacy/old.exs": "",
            "priv/repo/new.exs": "",
        },
    )
    found = discover([tmp_path], root=tmp_path, exclude=DEFAULT_EXCLUDE)
    assert rel(found.files, tmp_path) == [
        "lib/a.ex",
        "lib/gen/b.gen.ex",
        "priv/legacy/old.exs",
        "priv/repo/new.exs",
    ]
    exclude = (*DEFAULT_EXCLUDE, "priv/legacy/**", "*.gen.ex")
    found = discover([tmp_path], root=tmp_path, exclude=exclude)
    assert rel(found.files, tmp_path) == ["lib/a.ex", "priv/repo/new.exs"]


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("deps/x/lib/a.ex", "deps/**", True),
        ("lib/deps/a.ex", "deps/**", False),
        ("lib/deps/a.ex", "deps", True),
        ("deps", "deps/", True),
        ("lib/a/generated/b.ex", "**/generated/*.ex", True),
        ("generated/b.ex", "**/generated/*.ex", True),
        ("lib/a/generated/c/b.ex", "**/generated/*.ex", False),
        ("lib/a.ex", "lib/?.ex", True),
        ("lib/ab.ex", "lib/?.ex", False),
        ("lib/a.ex", "lib/[ab].ex", True),
        ("lib/c.ex", "lib/[!ab].ex", True),
        ("lib/a.exs", "*.ex", False),
        ("./lib/a.ex", "./lib/*.ex", True),
    ],
)
def test_exclude_globs(path: str, pattern: str, expected: bool) -> None:
    assert matches_exclude(path.removeprefix("./"), [pattern]) is expected


def test_excludes_are_relative_to_the_project_root(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/deps/d.ex": "", "app/lib/a.ex": ""})
    found = discover([tmp_path / "app"], root=tmp_path / "app", exclude=DEFAULT_EXCLUDE)
    assert rel(found.files, tmp_path) == ["app/lib/a.ex"]
    found = discover([tmp_path / "app"], root=tmp_path, exclude=DEFAULT_EXCLUDE)
    assert rel(found.files, tmp_path) == ["app/deps/d.ex", "app/lib/a.ex"]


def test_named_files_are_checked_even_when_excluded(tmp_path: Path) -> None:
    write_tree(tmp_path, {"deps/d.ex": "", "notes.txt": ""})
    found = discover(
        [tmp_path / "deps/d.ex", tmp_path / "notes.txt", tmp_path / "nope.ex"],
        root=tmp_path,
        exclude=DEFAULT_EXCLUDE,
    )
    assert rel(found.files, tmp_path) == ["deps/d.ex"]
    assert [p.message for p in found.problems] == [
        "not an Elixir or HEEx file (.ex, .exs, .heex); skipped"
    ]
    assert found.missing == [tmp_path / "nope.ex"]


def test_symlink_loops_and_broken_links_are_skipped_with_a_message(tmp_path: Path) -> None:
    write_tree(tmp_path, {"lib/a.ex": "", "other/b.ex": ""})
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "loop")
    os.symlink(tmp_path / "other", tmp_path / "lib" / "other_link")
    os.symlink(tmp_path / "missing.ex", tmp_path / "lib" / "dangling.ex")
    found = discover([tmp_path], root=tmp_path, exclude=DEFAULT_EXCLUDE)
    # b.ex is reachable twice (directly and through the link): listed once.
    files = rel(found.files, tmp_path)
    assert files[0] == "lib/a.ex"
    assert files[1:] in (["other/b.ex"], ["lib/other_link/b.ex"])
    messages = sorted(str(p) for p in found.problems)
    assert messages == [
        f"{tmp_path / 'lib' / 'dangling.ex'}: broken symbolic link; skipped",
        f"{tmp_path / 'lib' / 'loop'}: symbolic link loop (points at a parent); skipped",
    ]


def test_loop_is_reported_by_check_without_crashing(project: Path, run: Runner) -> None:
    os.symlink(project / "priv", project / "priv" / "repo" / "back")
    result = run("check", "--select", "MG012", "--format", "json")
    assert result.status == 1
    assert "symbolic link loop" in result.err
    assert [f["path"] for f in json.loads(result.out)] == [JSON_MIGRATION]


def test_deps_are_skipped_by_check(project: Path, run: Runner) -> None:
    result = run("check", "--format", "json", "--select", "MG012")
    assert all(not f["path"].startswith("deps/") for f in json.loads(result.out))
    result = run("check", "--format", "json", "--select", "MG012", "deps")
    assert [f["path"] for f in json.loads(result.out)] == []


def test_config_exclude_is_honoured_by_check(project: Path, run: Runner) -> None:
    write_tree(project, {".phxguard.toml": 'exclude = ["priv/repo/migrations/*_metadata.exs"]\n'})
    result = run("check", "--format", "json", "--select", "MG012")
    assert json.loads(result.out) == []
    assert result.status == 0
    # A file named on the command line is still checked.
    result = run("check", "--format", "json", "--select", "MG012", JSON_MIGRATION)
    assert [f["code"] for f in json.loads(result.out)] == ["MG012"]


def test_invalid_utf8_is_analysed_as_bytes(project: Path, run: Runner) -> None:
    source = (project / JSON_MIGRATION).read_bytes()
    broken = source.replace(b"use Ecto.Migration", b"use Ecto.Migration # caf\xe9 \xff")
    (project / JSON_MIGRATION).write_bytes(broken)
    for fmt in ("text", "json", "sarif", "github"):
        result = run("check", "--select", "MG012", "--format", fmt, JSON_MIGRATION)
        assert result.status == 1, (fmt, result.err)
        assert result.err == ""
    result = run("check", "--select", "MG012", "--format", "json", JSON_MIGRATION)
    (finding,) = json.loads(result.out)
    assert (finding["line"], finding["column"]) == (6, 22)


def test_nul_bytes_do_not_crash(project: Path, run: Runner) -> None:
    source = (project / JSON_MIGRATION).read_bytes()
    (project / JSON_MIGRATION).write_bytes(source.replace(b"use Ecto", b"use \x00Ecto"))
    (project / "lib" / "binary.ex").write_bytes(b"\x00\x01\xfe\xff" * 64)
    for fmt in ("text", "json", "sarif", "github"):
        result = run("check", "--format", fmt)
        assert result.status in (0, 1), (fmt, result.err)
        assert "Traceback" not in result.err


def test_invalid_utf8_file_can_be_fixed_byte_exactly(project: Path, run: Runner) -> None:
    source = (project / JSON_MIGRATION).read_bytes()
    broken = source.replace(b"use Ecto.Migration", b"use Ecto.Migration # \xff")
    (project / JSON_MIGRATION).write_bytes(broken)
    run("check", "--fix", "--select", "MG012", JSON_MIGRATION)
    assert (project / JSON_MIGRATION).read_bytes() == broken.replace(b":json", b":map")


def test_unreadable_file_is_skipped_with_a_message(
    project: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name.endswith("_add_metadata.exs"):
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run("check", "--select", "MG001,MG012", "--format", "json")
    assert f"phxguard: cannot read {JSON_MIGRATION}: Permission denied; skipped" in result.err
    assert [f["code"] for f in json.loads(result.out)] == ["MG001"]
    assert result.status == 1


def test_without_mix_exs_globs_are_anchored_at_the_config_or_the_checked_dir(
    tmp_path: Path, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    migration = PROJECT_FILES[JSON_MIGRATION]
    write_tree(
        tmp_path / "repo",
        {
            ".phxguard.toml": 'exclude = ["lib/legacy/**"]\n',
            "lib/legacy/old.exs": migration,
            "lib/new.exs": migration,
            "deps/dep/dep.exs": migration,
        },
    )
    monkeypatch.chdir(tmp_path / "repo")
    result = run("check", "lib", "--format", "json", "--select", "MG012")
    assert [f["path"] for f in json.loads(result.out)] == ["lib/new.exs"]
    ci_config = tmp_path / "ci.toml"
    ci_config.write_text('select = ["MG012"]\n', encoding="utf-8")
    result = run("check", ".", "--format", "json", "--config", str(ci_config))
    # An explicit config elsewhere does not move the root: deps/ is still skipped.
    assert [f["path"] for f in json.loads(result.out)] == ["lib/legacy/old.exs", "lib/new.exs"]
