"""phxguard's language server (pygls): one module per job.

``documents`` (bytes mirror + incremental tree per open document),
``positions`` (LSP positions <-> byte offsets in the negotiated encoding),
``analysis`` (running the analyzers, per-version results), ``diagnostics``
(push or pull, debounced), ``hover``, ``code_actions``, ``settings``,
``workspace`` (settings layers, project facts, file watching), ``sync``
(didOpen/didChange/didSave/didClose), ``protocol`` (client-dependent
capabilities, input hardening), ``server`` (state, isolated handlers) and
``app`` (wiring, :func:`server.lsp.app.start`).
"""
