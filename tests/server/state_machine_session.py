"""The client side of the state-machine test: one server session and what it must agree with.

:class:`Session` owns the server process, the workspace on disk and the
client's model of both (open texts and versions, settings). Its
:meth:`Session.check` is the invariant the state machine asserts after every
step: the server answers, mirrors every open document exactly, and reports
the diagnostics ``phxguard check`` reports for the same texts and settings.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.server.state_machine_client import (
    Json,
    LspProcess,
    ServerDied,
    ShadowWorkspace,
    cli_position,
    toml_of,
)
from tests.server.state_machine_workspace import (
    BASE_TOML,
    FILES,
    INVALID_SETTINGS,
    NEW_FILES,
    SETTINGS,
    effective_config,
)

SEVERITY = {"error": 1, "warning": 2, "info": 3}
METHOD_STATE = "phxguard/documentState"
# How long a push client waits for the diagnostics it expects before showing the difference.
PUSH_SETTLE_S = 10.0


@dataclass(frozen=True)
class Variant:
    """One kind of client: how it gets diagnostics and settings, and which encoding it speaks."""

    pulls: bool
    encoding: str
    debounce_ms: int
    examples: int
    steps: int
    # Settings in initializationOptions: a layer between the file and the client's settings.
    init_options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Doc:
    """An open document as the client has it."""

    text: str
    version: int = 1


@dataclass
class Session:
    """The server process, the workspace on disk and the client's model of both."""

    variant: Variant
    root: Path
    shadow: ShadowWorkspace
    server: LspProcess | None = None
    encoding: str = "utf-16"
    docs: dict[str, Doc] = field(default_factory=dict)
    disk: dict[str, str] = field(default_factory=dict)
    client_settings: dict[str, Any] = field(default_factory=dict)
    pulled: dict[str, tuple[str, list[Json]]] = field(default_factory=dict)
    published: dict[str, Json] = field(default_factory=dict)
    seen_notifications: int = 0
    steps: int = 0
    clean: bool = False

    # -- lifetime -------------------------------------------------------------------

    def start(self) -> None:
        """A fresh server on a freshly written workspace, initialized and done indexing facts."""
        if self.server is not None:
            self.server.close()
        self.docs.clear()
        self.pulled.clear()
        self.published.clear()
        self.client_settings = {}
        self.seen_notifications = 0
        self._restore_disk(notify=False)
        (self.root / ".phxguard.toml").write_text(BASE_TOML)
        server = LspProcess(self.root, self.root.parent / "server-stderr.log")
        self.server = server
        server.handlers["workspace/configuration"] = lambda params: [
            self.client_settings for _ in params["items"]
        ]
        result = server.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.root.as_uri(),
                "workspaceFolders": [{"uri": self.root.as_uri(), "name": "ws"}],
                "capabilities": self._capabilities(),
                "initializationOptions": {
                    **self.variant.init_options,
                    "debounceMs": self.variant.debounce_ms,
                },
            },
        )
        self.encoding = result["capabilities"].get("positionEncoding", "utf-16")
        assert self.encoding == self.variant.encoding, result["capabilities"]
        server.notify("initialized", {})
        # Indexing starts (with a progress token) only once settings and project facts are in.
        server.pump_until(
            lambda: any(
                r["method"] == "window/workDoneProgress/create" for r in server.server_requests
            ),
            "the workspace indexing to start",
        )
        self.clean = True

    def _capabilities(self) -> Json:
        pulls = self.variant.pulls
        text_document: Json = {
            "synchronization": {"didSave": True},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "publishDiagnostics": {"versionSupport": True},
            "codeAction": {
                "codeActionLiteralSupport": {
                    "codeActionKind": {"valueSet": ["quickfix", "source", "source.fixAll"]}
                },
                **(
                    {"resolveSupport": {"properties": ["edit"]}, "dataSupport": True}
                    if pulls
                    else {}
                ),
            },
        }
        if pulls:
            text_document["diagnostic"] = {"dynamicRegistration": False}
        return {
            "general": {"positionEncodings": [self.variant.encoding]},
            "textDocument": text_document,
            "workspace": {
                "configuration": pulls,
                "didChangeConfiguration": {"dynamicRegistration": True},
                "didChangeWatchedFiles": {"dynamicRegistration": True},
                "workspaceEdit": {"documentChanges": pulls},
                "diagnostics": {"refreshSupport": True},
            },
            "window": {"workDoneProgress": True},
        }

    def _restore_disk(self, *, notify: bool) -> None:
        events = []
        for rel in sorted(set(self.disk) | set(FILES) | set(NEW_FILES)):
            want = FILES.get(rel)
            path = self.root / rel
            exists = path.exists()
            if want is None:
                if exists:
                    path.unlink()
                    events.append({"uri": path.as_uri(), "type": 3})
                continue
            if not exists or path.read_bytes() != want.encode():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(want.encode())
                events.append({"uri": path.as_uri(), "type": 2 if exists else 1})
        self.disk = dict(FILES)
        if notify and events:
            self.srv.notify("workspace/didChangeWatchedFiles", {"changes": events})

    def begin_example(self) -> None:
        """Each example starts from the initial state; a server left broken is replaced."""
        if not self.clean or self.srv.process.poll() is not None:
            self.start()
        self.clean = False

    def end_example(self) -> None:
        """Close everything, restore the disk and the settings, and check the result."""
        self.srv.drain()
        self._take_notifications()
        for rel in list(self.docs):
            self.close(rel)
        self._restore_disk(notify=True)
        if self.client_settings:
            self.configure({})
        self.check()
        self.clean = True

    @property
    def srv(self) -> LspProcess:
        """The running server."""
        assert self.server is not None
        return self.server

    # -- what the client does -----------------------------------------------------------

    def uri(self, rel: str) -> str:
        """The URI of a workspace-relative path."""
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str) -> None:
        """``didOpen`` at version 1."""
        self.docs[rel] = Doc(text)
        self.pulled.pop(rel, None)
        language = "phoenix-heex" if rel.endswith(".heex") else "elixir"
        self.srv.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": self.uri(rel),
                    "languageId": language,
                    "version": 1,
                    "text": text,
                }
            },
        )

    def change(self, rel: str, changes: list[Json], new_text: str) -> None:
        """``didChange`` with ``changes``, after which the client has ``new_text``."""
        doc = self.docs[rel]
        doc.text = new_text
        doc.version += 1
        self.srv.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uri(rel), "version": doc.version},
                "contentChanges": changes,
            },
        )

    def save(self, rel: str) -> None:
        """Write the client's text to disk, then ``didSave`` with the text."""
        text = self.docs[rel].text
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (self.root / rel).write_bytes(text.encode())
        self.disk[rel] = text
        self.srv.notify(
            "textDocument/didSave", {"textDocument": {"uri": self.uri(rel)}, "text": text}
        )

    def close(self, rel: str) -> None:
        """``didClose``."""
        del self.docs[rel]
        self.pulled.pop(rel, None)
        self.srv.notify("textDocument/didClose", {"textDocument": {"uri": self.uri(rel)}})

    def write_disk(self, rel: str, text: str | None) -> None:
        """Another program changes (or deletes) a closed file; the editor's watcher reports it."""
        path = self.root / rel
        existed = path.exists()
        if text is None:
            path.unlink()
            self.disk.pop(rel, None)
            kind = 3
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())
            self.disk[rel] = text
            kind = 2 if existed else 1
        self.srv.notify(
            "workspace/didChangeWatchedFiles", {"changes": [{"uri": path.as_uri(), "type": kind}]}
        )

    def configure(self, settings: dict[str, Any]) -> None:
        """The user changes the ``phxguard`` settings (pulled or pushed, as the client does)."""
        self.client_settings = {**settings, "debounceMs": self.variant.debounce_ms}
        server = self.srv
        if self.variant.pulls:
            asked = len(server.server_requests)
            server.notify("workspace/didChangeConfiguration", {"settings": None})
            server.pump_until(
                lambda: any(
                    r["method"] == "workspace/configuration" for r in server.server_requests[asked:]
                ),
                "the server to ask for the new settings",
            )
        else:
            server.notify(
                "workspace/didChangeConfiguration", {"settings": {"phxguard": self.client_settings}}
            )

    # -- what the server must say ---------------------------------------------------------

    def effective(self) -> dict[str, Any]:
        """Settings in force: the file, initializationOptions, then the client's (if valid)."""
        layer = self.client_settings
        invalid = any(
            layer == {**SETTINGS[i], "debounceMs": self.variant.debounce_ms}
            for i in INVALID_SETTINGS
        )
        return effective_config(self.variant.init_options, {} if invalid else layer)

    def expected_findings(self) -> dict[str, list[Json]]:
        """``phxguard check`` of the workspace as the server should see it, by relative path."""
        files = {rel: text.encode() for rel, text in self.disk.items()}
        files.update({rel: doc.text.encode() for rel, doc in self.docs.items()})
        files[".phxguard.toml"] = toml_of(self.effective()).encode()
        return self.shadow.findings(files)

    def expected_diagnostics(self, rel: str, findings: list[Json]) -> list[tuple[Any, ...]]:
        """The CLI's findings of an open document as comparable LSP diagnostics."""
        text = self.docs[rel].text
        out = []
        for f in findings:
            start = cli_position(text, f["line"], f["column"], self.encoding)
            end = cli_position(text, f["end_line"], f["end_column"], self.encoding)
            out.append(
                _diagnostic_key(
                    f["code"], {"start": start, "end": end}, SEVERITY[f["severity"]], f["message"]
                )
            )
        return sorted(out)

    def pulled_diagnostics(self, rel: str) -> list[tuple[Any, ...]]:
        """The server's diagnostics of an open document, pulled (an unchanged report reuses the last)."""
        previous = self.pulled.get(rel)
        params: Json = {"textDocument": {"uri": self.uri(rel)}}
        if previous is not None:
            params["previousResultId"] = previous[0]
        report = self.srv.request("textDocument/diagnostic", params)
        if report["kind"] == "unchanged":
            assert previous is not None and report["resultId"] == previous[0], report
            items = previous[1]
        else:
            items = report["items"]
            self.pulled[rel] = (report["resultId"], items)
        return _keys(items)

    def await_published(self, rel: str, expected: list[tuple[Any, ...]]) -> None:
        """Wait until the latest publish of ``rel`` is at its version and says ``expected``.

        A push client has no other signal: after a settings, facts or disk
        change the server re-publishes the same version whenever it is done.
        """
        uri, version = self.uri(rel), self.docs[rel].version

        def latest() -> Json:
            self._take_notifications()
            return self.published.get(uri, {})

        def settled() -> bool:
            publish = latest()
            return publish.get("version") == version and _keys(publish["diagnostics"]) == expected

        try:
            self.srv.pump_until(settled, f"diagnostics of {rel} v{version}", timeout=PUSH_SETTLE_S)
        except ServerDied:
            if self.srv.process.poll() is not None:
                raise
            publish = latest()
            assert publish.get("version") == version, (rel, publish.get("version"), version)
            actual = _keys(publish["diagnostics"])
            assert actual == expected, _diff(rel, actual, expected, self.effective())

    def _take_notifications(self) -> None:
        notes = self.srv.notifications
        while self.seen_notifications < len(notes):
            note = notes[self.seen_notifications]
            self.seen_notifications += 1
            method, params = note["method"], note.get("params") or {}
            if method == "textDocument/publishDiagnostics":
                self.published[params["uri"]] = params
            elif method == "window/logMessage" and params.get("type") in (1, 2):
                message = params.get("message", "")
                # Invalid settings are reported (as they should be); nothing else may be.
                expected = "settings.phxguard" in message
                assert expected, f"server logged: {message}\n{self.srv.stderr_tail()}"

    def check(self) -> dict[str, list[Json]]:
        """Alive, same texts, same diagnostics as the CLI; returns the CLI's findings."""
        server = self.srv
        # The first answer is also a barrier: everything the server did before it has arrived.
        probe = server.request(METHOD_STATE, {"uri": self.uri("none.ex"), "includeText": True})
        assert probe is None, probe
        for rel, doc in self.docs.items():
            state = server.request(METHOD_STATE, {"uri": self.uri(rel), "includeText": True})
            assert state is not None, f"{rel} is open but the server does not know it"
            assert state["text"] == doc.text, (
                f"text of {rel} drifted:\n{state['text']!r}\n!=\n{doc.text!r}"
            )
            assert state["version"] == doc.version, (rel, state["version"], doc.version)
            assert state["sha256"] == hashlib.sha256(doc.text.encode()).hexdigest()
        findings = self.expected_findings()
        for rel in self.docs:
            expected = self.expected_diagnostics(rel, findings.get(rel, []))
            if self.variant.pulls:
                actual = self.pulled_diagnostics(rel)
                assert actual == expected, _diff(rel, actual, expected, self.effective())
            else:
                self.await_published(rel, expected)
        self._take_notifications()
        return findings


def _keys(items: list[Json]) -> list[tuple[Any, ...]]:
    for d in items:
        assert d.get("source") == "phxguard", d
    return sorted(
        _diagnostic_key(d["code"], d["range"], d["severity"], d["message"]) for d in items
    )


def _diagnostic_key(code: Any, rng: Json, severity: Any, message: str) -> tuple[Any, ...]:
    s, e = rng["start"], rng["end"]
    return (str(code), s["line"], s["character"], e["line"], e["character"], severity, message)


def _diff(rel: str, actual: list[Any], expected: list[Any], config: Any) -> str:
    missing = [d for d in expected if d not in actual]
    extra = [d for d in actual if d not in expected]
    return f"diagnostics of {rel} differ from `phxguard check` (settings {config}):\n  server only: {extra}\n  check only: {missing}"
