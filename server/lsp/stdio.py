"""Reading LSP messages from stdin with one thread hop per burst, not three per message.

pygls reads each header line and each body through its own ``run_in_executor``
call. A keystroke is a ``didChange`` followed by a diagnostic pull: six hops
between threads before the server even starts, each waiting for the GIL
while the analysis thread runs, which is about half of what a keystroke
costs end to end on a large file. This reader takes whatever the client has
written so far in one hop (``read1``) and serves lines and bodies from that
buffer. It has pygls' ``AsyncReader`` interface, so pygls' own message loop
(framing, errors, shutdown) is unchanged.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

CHUNK = 1 << 16


class BufferedStdinReader:
    """pygls' ``AsyncReader`` over a binary stream, buffered across messages."""

    def __init__(self, stream: BinaryIO, executor: ThreadPoolExecutor | None = None) -> None:
        self._stream = stream
        self._executor = executor
        self._buffer = bytearray()
        self._eof = False

    def _read_available(self) -> bytes:
        """Block until some bytes arrive; return what is there (b"" at end of stream)."""
        read1 = getattr(self._stream, "read1", None)
        if read1 is not None:
            data: bytes = read1(CHUNK)
            return data
        return self._stream.read(1)

    async def _fill(self) -> None:
        loop = asyncio.get_running_loop()
        chunk = await loop.run_in_executor(self._executor, self._read_available)
        if chunk:
            self._buffer += chunk
        else:
            self._eof = True

    async def readline(self) -> bytes:
        """The next line, its ``\\n`` included (what is left, or b"", at end of stream)."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                return self._take(end + 1)
            if self._eof:
                return self._take(len(self._buffer))
            await self._fill()

    async def readexactly(self, n: int) -> bytes:
        """The next ``n`` bytes (fewer only at end of stream)."""
        while len(self._buffer) < n and not self._eof:
            await self._fill()
        return self._take(min(n, len(self._buffer)))

    def _take(self, n: int) -> bytes:
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data
