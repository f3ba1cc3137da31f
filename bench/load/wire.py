"""A lean HTTP/1.1 client for the load clients: one keep-alive connection per closed-loop
client, a POST written in one piece and the answer read by Content-Length (or chunks).

The load generator shares the machine with the API and Neo4j: through httpx it spent about
3.7 ms of CPU per request, as much as the API itself, so the run measured the client too.
This one spends a fraction of that. Anything unexpected closes the connection; the next
request opens a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

from bench.load.operations import Outcome, judge


class WireError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as expected."""


@dataclass
class Wire:
    host: str
    port: int
    timeout: float = 60.0
    _reader: asyncio.StreamReader | None = field(default=None, repr=False)
    _writer: asyncio.StreamWriter | None = field(default=None, repr=False)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(status, body) of one POST of JSON. Raises WireError (the connection is closed)."""
        try:
            return await asyncio.wait_for(self._exchange(path, body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            await self.close()
            raise WireError(repr(exc)) from exc

    async def _exchange(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Content-Type: application/json\r\nAccept: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
        self._writer.write(head.encode("ascii") + body)
        status_line = await self._reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers = await self._headers()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            answer = await self._chunks()
        else:
            answer = await self._reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, answer

    async def _headers(self) -> dict[str, str]:
        assert self._reader is not None
        found: dict[str, str] = {}
        while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            found[name.strip().lower()] = value.strip()
        return found

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)
        while await self._reader.readuntil(b"\r\n") != b"\r\n":  # trailers
            pass
        return b"".join(parts)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def call_wire(wire: Wire, op: str, query: str, variables: dict[str, object]) -> Outcome:
    """`operations.call` over a `Wire`: POST one GraphQL operation and judge the answer."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    start = time.perf_counter()
    try:
        status, answer = await wire.post("/graphql", body)
    except WireError as exc:
        return Outcome(op, 0, time.perf_counter() - start, (), f"no answer: {exc}")
    seconds = time.perf_counter() - start
    return judge(op, status, answer.decode("utf-8", errors="replace"), seconds)
