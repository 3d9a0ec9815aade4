"""The ``phxguard`` command line: ``check`` (text, JSON, SARIF, GitHub output, ``--fix``),
``rules``, ``explain`` and ``server``."""
