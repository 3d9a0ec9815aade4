"""phxguard front ends: the command-line interface (``server.cli``) and the language server.

The CLI path imports only ``analyzers`` and the standard library, so it starts
fast; the language server's pygls/lsprotocol imports stay behind
``phxguard server``.
"""
