"""phxguard's analyzers: source bytes in, findings out.

Nothing in this package imports pygls or lsprotocol, so the CLI, the language
server and the tests share exactly the same analysis.
"""

__version__ = "0.1.0"
