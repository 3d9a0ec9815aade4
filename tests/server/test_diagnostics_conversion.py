"""to_diagnostic: a finding as an LSP diagnostic, the docs link computed once per rule."""

from __future__ import annotations

import pytest
from lsprotocol import types

from analyzers.explain import docs_uri
from analyzers.model import Finding, Severity
from analyzers.registry import Rule, all_rules
from analyzers.text import LineIndex
from server.lsp.diagnostics import to_diagnostic
from server.lsp.positions import PositionCodec

SOURCE = "defmodule A do\n  é😀 = 1\nend\n".encode()


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.meta.code)
def test_every_rule_links_to_its_docs_section(rule: Rule) -> None:
    meta = rule.meta
    codec = PositionCodec(LineIndex(SOURCE), "utf-16")
    finding = Finding(meta.code, 17, 27, "msg", Severity.WARNING)
    for _ in range(2):  # the second one comes from the cache: still the same link
        diagnostic = to_diagnostic(finding, codec)
        assert diagnostic.code_description == types.CodeDescription(href=docs_uri(meta))


def test_unknown_code_has_no_docs_link_and_a_range_in_the_codec_encoding() -> None:
    codec = PositionCodec(LineIndex(SOURCE), "utf-16")
    start = SOURCE.index(b"=")
    diagnostic = to_diagnostic(Finding("XX999", start, start + 1, "msg", Severity.INFO), codec)
    assert diagnostic.code_description is None
    assert diagnostic.range == types.Range(types.Position(1, 6), types.Position(1, 7))
    assert diagnostic.severity == types.DiagnosticSeverity.Information
    assert (diagnostic.code, diagnostic.message, diagnostic.source) == ("XX999", "msg", "phxguard")
