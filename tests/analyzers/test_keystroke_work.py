"""What a keystroke inside one function must not redo over the whole file.

Timing is left to the benchmark; this checks the work itself: re-analysing a
context module after an edit inside one function builds no call index over
the whole file (on 5,000 lines that alone costs about 20 ms). A rule that
reads the whole file (``scope="file"``) must rule itself out by cheaper tests
first when the file cannot concern it.
"""

from __future__ import annotations

import pytest

from analyzers.context import FileContext
from analyzers.engine import analyze
from analyzers.project import ProjectFacts
from analyzers.rules.ecto.facts import SCHEMAS, Association, SchemaFacts
from tests.benchmarks.corpus import context_module

# What a real project's workspace facts add: a schema with an association (EC005 then reads
# every load of the module).
ENTRY = SchemaFacts(
    "Bench.Entry", "entries", ("kind",), (Association("owner", "belongs_to", None),)
)
WITH_SCHEMAS = ProjectFacts(root=".", extras={SCHEMAS: {"Bench.Entry": ENTRY}})


@pytest.mark.parametrize("facts", [None, WITH_SCHEMAS], ids=["alone", "with_schemas"])
def test_an_edit_inside_a_function_indexes_no_call_of_the_whole_file(
    monkeypatch: pytest.MonkeyPatch, facts: ProjectFacts | None
) -> None:
    text = context_module("Bench.Records", 400, seed=3).encode()
    path = "lib/bench/records.ex"
    first = analyze(text, path, incremental=True, facts=facts)
    assert first.state is not None and first.failures == []
    anchor = text.index(b"|> Repo.insert()", len(text) // 2)
    edited = text[:anchor] + b"|> Repo.insert!()" + text[anchor + len(b"|> Repo.insert()") :]

    indexed: list[int] = []
    original = FileContext._call_index

    def recording(ctx: FileContext) -> dict[str, list[object]]:
        indexed.append(len(ctx.source))
        return original(ctx)  # type: ignore[return-value]

    monkeypatch.setattr(FileContext, "_call_index", recording)
    again = analyze(edited, path, incremental=True, previous=first.state, facts=facts)
    assert again.failures == []
    assert indexed, "the edited function's rules read the call index"
    assert max(indexed) < len(edited) // 2, "a call index was built over the whole file"
    fresh = analyze(edited, path, facts=facts)
    assert [(f.code, f.start, f.end) for f in again.findings] == [
        (f.code, f.start, f.end) for f in fresh.findings
    ]
