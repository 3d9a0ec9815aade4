"""Elixir's own parser, for proving that fixes produce code Elixir accepts.

One long-lived ``elixir`` process parses every source the tests send it with
``Code.string_to_quoted!/1`` (starting the VM per check would cost ~0.5 s each).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import IO

_LOOP = r"""
defmodule PhxguardParseLoop do
  def loop do
    case IO.binread(:stdio, :line) do
      :eof -> :ok
      {:error, _} -> :ok
      line ->
        size = line |> String.trim() |> String.to_integer()
        source = if size == 0, do: "", else: IO.binread(:stdio, size)
        reply =
          try do
            Code.string_to_quoted!(source)
            "ok"
          rescue
            e -> "error " <> String.replace(Exception.message(e), "\n", " ")
          end
        IO.binwrite(:stdio, reply <> "\n")
        loop()
    end
  end
end
PhxguardParseLoop.loop()
"""


class ElixirParser:
    """A running ``elixir`` that answers "does this parse?"."""

    def __init__(self) -> None:
        executable = shutil.which("elixir")
        if executable is None:
            raise RuntimeError(
                "elixir is not installed (apt-get install elixir); .ci/run installs it"
            )
        self._proc = subprocess.Popen(
            [executable, "-e", _LOOP],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def check(self, source: str) -> str | None:
        """None when Elixir parses ``source``; otherwise Elixir's error message."""
        data = source.encode("utf-8")
        stdin: IO[bytes] = self._proc.stdin  # type: ignore[assignment]
        stdout: IO[bytes] = self._proc.stdout  # type: ignore[assignment]
        stdin.write(f"{len(data)}\n".encode() + data)
        stdin.flush()
        reply = stdout.readline().decode("utf-8", "replace").strip()
        if not reply:
            raise RuntimeError("the elixir parse process exited")
        return None if reply == "ok" else reply.removeprefix("error ")

    def close(self) -> None:
        """Stop the process."""
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
