"""The buffered stdin reader gives pygls' message loop exactly what line/exact reads would."""

from __future__ import annotations

import asyncio
import io
from typing import BinaryIO, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from server.lsp.stdio import BufferedStdinReader


class Chunked(io.RawIOBase):
    """A stream whose ``read1`` hands out the data in the given chunk sizes, as a pipe would."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = data
        self._sizes = sizes
        self.reads = 0

    def read1(self, limit: int = -1) -> bytes:
        self.reads += 1
        size = self._sizes.pop(0) if self._sizes else len(self._data)
        chunk, self._data = self._data[: max(1, size)], self._data[max(1, size) :]
        return chunk


def _reader(stream: Chunked) -> BufferedStdinReader:
    return BufferedStdinReader(cast(BinaryIO, stream))


def _run(reader: BufferedStdinReader, steps: list[int | None]) -> list[bytes]:
    async def go() -> list[bytes]:
        out = []
        for step in steps:
            out.append(await (reader.readline() if step is None else reader.readexactly(step)))
        return out

    return asyncio.run(go())


def _reference(data: bytes, steps: list[int | None]) -> list[bytes]:
    stream = io.BytesIO(data)
    return [stream.readline() if step is None else stream.read(step) for step in steps]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(max_size=200).map(lambda b: b.replace(b"x", b"\n")),
    st.lists(st.integers(1, 50), max_size=20),
    st.lists(st.one_of(st.none(), st.integers(0, 60)), max_size=15),
)
def test_reads_equal_a_plain_streams(
    data: bytes, sizes: list[int], steps: list[int | None]
) -> None:
    assert _run(_reader(Chunked(data, sizes)), steps) == _reference(data, steps)


def test_a_burst_of_messages_is_read_in_one_hop() -> None:
    body = b'{"jsonrpc":"2.0","method":"x"}'
    message = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    stream = Chunked(message * 2, [len(message) * 2])
    reader = _reader(stream)
    steps: list[int | None] = [None, None, len(body), None, None, len(body)]
    assert _run(reader, steps) == _reference(message * 2, steps)
    assert stream.reads == 1


def test_end_of_stream_mid_body_returns_what_there_is() -> None:
    reader = _reader(Chunked(b"Content-Length: 10\r\n\r\nabc", [5]))
    assert _run(reader, [None, None, 10, None]) == [b"Content-Length: 10\r\n", b"\r\n", b"abc", b""]
