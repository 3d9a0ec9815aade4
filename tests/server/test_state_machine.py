"""A hypothesis state machine drives the real server; after every step it must agree with the CLI.

Random sequences of open / incremental change (random ranges, multi-byte
text, CRLF, lone CR, U+2028) / full change / typing burst / save / close /
hover / code action (applied as an editor applies it) / configuration change /
change on disk run against ONE ``python -m server.lsp`` process per test
(reused across hypothesis examples: teardown closes every document, restores
the disk and resets the settings). After every step:

- the server is alive (it answers ``phxguard/documentState``);
- every open document's text and version on the server equal the client's;
- its diagnostics equal a fresh ``phxguard check --format json`` run
  in-process on a shadow copy of the workspace (closed files as on disk, open
  files with the client's unsaved text, which is also what the server reads
  project facts from) with the same effective settings;
- the server logged no error and no warning (a warning means it had to
  clamp a range, resynchronise a saved text or drop a handler's result).

Hovers must answer exactly over the CLI's findings, with their span; code
actions may only name current diagnostics, a finding's fix must carry the
edits ``check`` reports for it, and applying an action (resolved first where
the client resolves) goes back to the server as ``didChange``, or to disk and
``didChangeWatchedFiles`` for a closed file.

``test_state_machine_pull`` is a VS Code-like client (pulls diagnostics,
UTF-16, resolves code actions, ``workspace/configuration``);
``test_state_machine_push`` is an eglot-like one (publishDiagnostics awaited by
version, UTF-8, edits sent eagerly, settings pushed in the notification).

Size: about 2,500 steps (pull) and 1,100 (push), derandomized so CI sees the
same sequences every run; about 45 s together on a busy 2-vCPU VM. ``PHXGUARD_SOAK_STEPS=<n>`` runs about ``n`` steps
per test instead, with fresh random sequences each time, e.g.
``PHXGUARD_SOAK_STEPS=50000 python3 -m pytest -q tests/server/test_state_machine.py``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.server.state_machine_client import (
    Json,
    ShadowWorkspace,
    apply_edits,
    cli_index,
    cli_position,
    lsp_range,
    position,
)
from tests.server.state_machine_session import SEVERITY, Session, Variant
from tests.server.state_machine_workspace import FILES, FRAGMENTS, NEW_FILES, SETTINGS

# -- the state machine ------------------------------------------------------------------------


# Files with findings of several families, one of which each example starts with open.
FIRST_OPEN = (
    "lib/shop_web/live/order_live.ex",
    "lib/shop/orders.ex",
    "priv/repo/migrations/20240301000000_tune_orders.exs",
    "lib/shop_web/live/cart_live.html.heex",
)


def _start_boundary(text: str, i: int) -> int:
    # Editors cannot address the middle of a CRLF: a range starting there starts at the CR.
    return i - 1 if 0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n" else i


def _end_boundary(text: str, i: int) -> int:
    return i + 1 if 0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n" else i


def _text_pool(current: str) -> list[str]:
    lf = current.replace("\r\n", "\n").replace("\r", "\n")
    return [
        *FILES.values(),
        *NEW_FILES.values(),
        "",
        lf,
        lf.replace("\n", "\r\n"),
        lf.replace("\n", "\r"),
    ]


def _rel_of(session: Session, uri: str) -> str:
    return Path(unquote(urlparse(uri).path)).relative_to(session.root).as_posix()


class ServerMachine(RuleBasedStateMachine):
    """Random editor sessions; :class:`Session` checks the server after every step."""

    session: Session

    def __init__(self) -> None:
        super().__init__()
        self.s = self.session
        self.s.begin_example()

    def teardown(self) -> None:
        """Leave the server as the next example expects to find it."""
        self.s.end_example()

    def _doc(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.s.docs)), label="document")

    def _range(self, data: st.DataObject, text: str) -> tuple[int, int]:
        start = data.draw(st.integers(0, len(text)), label="start")
        end = data.draw(st.integers(start, min(len(text), start + 40)), label="end")
        return _start_boundary(text, start), _end_boundary(text, end)

    def _closed(self) -> list[str]:
        return sorted(p for p in {*self.s.disk, *NEW_FILES} if p not in self.s.docs)

    @initialize(rel=st.sampled_from(FIRST_OPEN))
    def open_first(self, rel: str) -> None:
        """Each example starts editing a file with findings (else many steps see nothing open)."""
        self.s.open(rel, self.s.disk[rel])

    @precondition(lambda self: bool(self._closed()))
    @rule(data=st.data())
    def open_document(self, data: st.DataObject) -> None:
        """Open a file from disk, or a new one that is not on disk yet."""
        rel = data.draw(st.sampled_from(self._closed()), label="path")
        text = self.s.disk.get(rel)
        self.s.open(rel, text if text is not None else NEW_FILES[rel])

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data())
    def close_document(self, data: st.DataObject) -> None:
        """Close without saving: the file counts as on disk again."""
        self.s.close(self._doc(data))

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data(), pieces=st.lists(st.sampled_from(FRAGMENTS), max_size=3))
    def edit(self, data: st.DataObject, pieces: list[str]) -> None:
        """One incremental change: replace a random range with typed text."""
        rel = self._doc(data)
        text = self.s.docs[rel].text
        start, end = self._range(data, text)
        insert = "".join(pieces)
        change = {"range": lsp_range(text, start, end, self.s.encoding), "text": insert}
        self.s.change(rel, [change], text[:start] + insert + text[end:])

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data(), count=st.integers(2, 6), one_message=st.booleans())
    def typing_burst(self, data: st.DataObject, count: int, one_message: bool) -> None:
        """Several changes with no pause: in one ``didChange`` (applied in order) or one each."""
        rel = self._doc(data)
        text = self.s.docs[rel].text
        changes = []
        for _ in range(count):
            start, end = self._range(data, text)
            insert = data.draw(st.sampled_from(FRAGMENTS), label="typed")
            changes.append({"range": lsp_range(text, start, end, self.s.encoding), "text": insert})
            text = text[:start] + insert + text[end:]
            if not one_message:
                self.s.change(rel, [changes.pop()], text)
        if one_message:
            self.s.change(rel, changes, text)

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data())
    def replace_all(self, data: st.DataObject) -> None:
        """A full-text change (another file's text, empty, or other line endings)."""
        rel = self._doc(data)
        text = data.draw(st.sampled_from(_text_pool(self.s.docs[rel].text)), label="text")
        self.s.change(rel, [{"text": text}], text)

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data())
    def save(self, data: st.DataObject) -> None:
        """Save: the text goes to disk and the server reparses from scratch."""
        self.s.save(self._doc(data))

    @precondition(lambda self: bool(self.s.docs))
    @rule(data=st.data())
    def hover(self, data: st.DataObject) -> None:
        """A hover answers exactly where a finding lies, with the findings' span."""
        rel = self._doc(data)
        text = self.s.docs[rel].text
        spans = [
            (
                cli_index(text, f["line"], f["column"]),
                cli_index(text, f["end_line"], f["end_column"]),
            )
            for f in self.s.expected_findings().get(rel, [])
        ]
        # Mostly on or around a finding, where a hover has something to say.
        if spans and data.draw(st.integers(0, 3), label="near a finding") > 0:
            a, b = data.draw(st.sampled_from(spans), label="finding")
            wanted = data.draw(st.integers(max(0, a - 2), min(len(text), b + 2)), label="index")
        else:
            wanted = data.draw(st.integers(0, len(text)), label="index")
        index = _start_boundary(text, wanted)
        answer = self.s.srv.request(
            "textDocument/hover",
            {
                "textDocument": {"uri": self.s.uri(rel)},
                "position": position(text, index, self.s.encoding),
            },
        )
        hits = [(a, b) for a, b in spans if a <= index <= b]
        event("hover on a finding" if hits else "hover elsewhere")
        if not hits:
            assert answer is None, (rel, index, answer)
            return
        assert answer is not None and answer["contents"]["value"], (rel, index, hits)
        start, end = min(a for a, _ in hits), max(b for _, b in hits)
        assert answer["range"] == lsp_range(text, start, end, self.s.encoding), (
            answer["range"],
            hits,
        )

    @precondition(lambda self: bool(self.s.docs))
    @rule(
        data=st.data(),
        only=st.sampled_from(
            [None, None, None, ["quickfix"], ["source.fixAll.phxguard"], ["source"]]
        ),
    )
    def code_action(self, data: st.DataObject, only: list[str] | None) -> None:
        """Ask for code actions; maybe apply one as an editor does (then ``didChange``)."""
        s = self.s
        rel = self._doc(data)
        text = s.docs[rel].text
        findings = s.expected_findings().get(rel, [])
        diagnostics = [_lsp_diagnostic(text, f, s.encoding) for f in findings]
        if diagnostics and data.draw(st.integers(0, 4), label="at a diagnostic") > 0:
            chosen = data.draw(st.sampled_from(diagnostics), label="diagnostic")
            rng, context = chosen["range"], [chosen]
        else:
            start, end = self._range(data, text)
            rng, context = lsp_range(text, start, end, s.encoding), []
        context_params: Json = {"diagnostics": context}
        if only is not None:
            context_params["only"] = only
        actions = (
            s.srv.request(
                "textDocument/codeAction",
                {"textDocument": {"uri": s.uri(rel)}, "range": rng, "context": context_params},
            )
            or []
        )
        keys = {_key_of(d) for d in diagnostics}
        for action in actions:
            if only is not None:
                assert any(
                    action["kind"] == k or action["kind"].startswith(k + ".") for k in only
                ), action
            for d in action.get("diagnostics") or []:
                assert _key_of(d) in keys, (action["title"], d)
        if not actions or data.draw(st.integers(0, 2), label="apply") == 0:
            event("code actions offered" if actions else "no code action")
            return
        action = data.draw(st.sampled_from(actions), label="action")
        event(f"code action applied: {action['kind']}")
        if s.variant.pulls:
            assert "edit" not in action, action
            action = s.srv.request("codeAction/resolve", action)
        edit = action.get("edit")
        assert edit, f"action without an edit: {action}"
        self._compare_with_cli_fix(action, findings, rel)
        self._apply(edit)

    def _compare_with_cli_fix(self, action: Json, findings: list[Json], rel: str) -> None:
        """A finding's own fix must make the edits ``phxguard check`` reports for it."""
        s = self.s
        attached = action.get("diagnostics") or []
        if action["kind"] != "quickfix" or len(attached) != 1:
            return
        text = s.docs[rel].text
        finding = next(
            f
            for f in findings
            if _key_of(_lsp_diagnostic(text, f, s.encoding)) == _key_of(attached[0])
        )
        fix = next((x for x in finding["fixes"] if x["title"] == action["title"]), None)
        if fix is None:
            assert action["title"].startswith("Disable "), (action["title"], finding["fixes"])
            return
        expected = []
        for e in fix["edits"]:
            target = s.shadow.rel(e["path"])
            target_text = s.docs[target].text if target in s.docs else s.disk.get(target, "")
            start = cli_position(target_text, e["line"], e["column"], s.encoding)
            end = cli_position(target_text, e["end_line"], e["end_column"], s.encoding)
            expected.append((target, _range_key({"start": start, "end": end}), e["new_text"]))
        actual = [(r, _range_key(e["range"]), e["newText"]) for r, e in self._edits(action["edit"])]
        assert sorted(actual) == sorted(expected), (action["title"], actual, expected)

    def _edits(self, edit: Json) -> Iterator[tuple[str, Json]]:
        s = self.s
        if edit.get("documentChanges") is not None:
            for change in edit["documentChanges"]:
                rel = _rel_of(s, change["textDocument"]["uri"])
                version = change["textDocument"].get("version")
                assert version == (s.docs[rel].version if rel in s.docs else None), (rel, version)
                for e in change["edits"]:
                    yield rel, e
        else:
            for uri, edits in (edit.get("changes") or {}).items():
                for e in edits:
                    yield _rel_of(s, uri), e

    def _apply(self, edit: Json) -> None:
        by_file: dict[str, list[Json]] = {}
        for rel, e in self._edits(edit):
            by_file.setdefault(rel, []).append(e)
        for rel, edits in by_file.items():
            if rel in self.s.docs:
                new_text, changes = apply_edits(self.s.docs[rel].text, edits, self.s.encoding)
                self.s.change(rel, changes, new_text)
            else:
                # A closed file: written on disk, as `--fix` or an editor's background save would.
                self.s.write_disk(
                    rel, apply_edits(self.s.disk.get(rel, ""), edits, self.s.encoding)[0]
                )

    @rule(index=st.integers(0, len(SETTINGS) - 1))
    def configure(self, index: int) -> None:
        """The user changes the ``phxguard`` settings (some choices are invalid)."""
        self.s.configure(SETTINGS[index])

    @precondition(lambda self: bool(self._closed()))
    @rule(data=st.data())
    def change_on_disk(self, data: st.DataObject) -> None:
        """Another program (git, a formatter) rewrites, creates or deletes a closed file."""
        rel = data.draw(st.sampled_from(self._closed()), label="path")
        current = self.s.disk.get(rel)
        choices: list[str | None] = [*_text_pool(current or "")]
        # Not mix.exs: without it `check` reads no project facts while the server still reads
        # the workspace folder's (a known difference, reported; no real project lacks one).
        if current is not None and rel != "mix.exs":
            choices.append(None)
        self.s.write_disk(rel, data.draw(st.sampled_from(choices), label="text"))

    @invariant()
    def server_agrees_with_check(self) -> None:
        """Alive, same texts, same diagnostics as ``phxguard check``."""
        findings = self.s.check()
        event(f"open documents: {len(self.s.docs)}")
        if any(findings.get(rel) for rel in self.s.docs):
            event("an open document has findings")
        self.s.steps += 1


def _lsp_diagnostic(text: str, finding: Json, encoding: str) -> Json:
    return {
        "range": {
            "start": cli_position(text, finding["line"], finding["column"], encoding),
            "end": cli_position(text, finding["end_line"], finding["end_column"], encoding),
        },
        "severity": SEVERITY[finding["severity"]],
        "code": finding["code"],
        "source": "phxguard",
        "message": finding["message"],
    }


def _range_key(rng: Json) -> tuple[int, int, int, int]:
    return (
        rng["start"]["line"],
        rng["start"]["character"],
        rng["end"]["line"],
        rng["end"]["character"],
    )


def _key_of(diagnostic: Json) -> tuple[Any, ...]:
    return (str(diagnostic["code"]), _range_key(diagnostic["range"]), diagnostic["message"])


# -- the tests ------------------------------------------------------------------------------

PULL = Variant(pulls=True, encoding="utf-16", debounce_ms=0, examples=80, steps=40)
PUSH = Variant(
    pulls=False,
    encoding="utf-8",
    debounce_ms=5,
    examples=40,
    steps=30,
    init_options={"severity": {"EC": "info", "MG003": "error"}, "ignore": ["OT"]},
)


def _settings(variant: Variant) -> settings:
    soak = os.environ.get("PHXGUARD_SOAK_STEPS")
    examples = variant.examples if not soak else max(1, int(soak) // variant.steps)
    return settings(
        max_examples=examples,
        stateful_step_count=variant.steps,
        derandomize=not soak,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _session(variant: Variant, tmp_path: Path) -> Session:
    root = tmp_path / "ws"
    root.mkdir()
    session = Session(variant, root, ShadowWorkspace(tmp_path / "shadow"))
    session.start()
    return session


def _run(variant: Variant, tmp_path: Path) -> None:
    session = _session(variant, tmp_path)
    machine = type("Machine", (ServerMachine,), {"session": session})
    started = time.monotonic()
    try:
        run_state_machine_as_test(machine, settings=_settings(variant))
    finally:
        elapsed = time.monotonic() - started
        print(
            f"\n{'pull' if variant.pulls else 'push'}: {session.steps} steps, "
            f"{session.shadow.checks} phxguard checks, {elapsed:.1f} s"
        )
        exited = session.srv.close()
    assert session.steps > variant.examples, "the machine ran almost no steps"
    assert exited, (
        f"the server did not exit cleanly after shutdown/exit\n{session.srv.stderr_tail()}"
    )


@pytest.mark.parametrize("variant", [PULL, PUSH], ids=["utf-16", "utf-8"])
def test_change_running_past_a_line_separator(variant: Variant, tmp_path: Path) -> None:
    """U+2028 ends no line in LSP: a range running past it is applied whole.

    Found by the machine: pygls clamped the range in place (it splits lines
    at U+2028) before the server's own mirror applied it, which then lost
    the rest of the edit.
    """
    session = _session(variant, tmp_path)
    try:
        session.begin_example()
        rel = "lib/shop/notes.ex"
        text = 'def note, do: "xx\u2028yy 😀"\n'
        session.open(rel, text)
        session.check()
        start, end = text.index("xx"), text.index("y") + 1
        change = {"range": lsp_range(text, start, end, session.encoding), "text": "é"}
        session.change(rel, [change], text[:start] + "é" + text[end:])
        session.check()
        session.end_example()
    finally:
        session.srv.close()


def test_state_machine_pull(tmp_path: Path) -> None:
    """A pulling, UTF-16 client that resolves code actions and answers workspace/configuration."""
    _run(PULL, tmp_path)


def test_state_machine_push(tmp_path: Path) -> None:
    """A pushed-to, UTF-8 client that gets edits eagerly and pushes its settings."""
    _run(PUSH, tmp_path)
