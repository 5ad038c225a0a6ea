"""A small Chat Completions app for servers nobody here wrote, and a way to run each on loopback.

The same answers come from an ASGI app (for uvicorn and hypercorn) and an
aiohttp app. The first path segment picks how the reply is framed:

    POST /length/v1/chat/completions    JSON with Content-Length
    POST /chunked/v1/chat/completions   JSON sent in two pieces, no length: the server chunks it
    either, with "stream": true         text/event-stream, one event per write, then data: [DONE]

Each server runs in its own thread with its own event loop, on a socket this
module binds to 127.0.0.1:0 beforehand (so the port is known at once and no
connection is refused while the server starts). ``start()`` waits, bounded,
for the server to say it is ready; ``stop()`` is bounded too.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# Bounds for starting and stopping a server.
START_SECONDS = 10.0
STOP_SECONDS = 10.0

MODEL = "gpt-interop"
PIECES = ["Hello", ", ", "interop", " world", "!"]  # the streamed deltas; joined, the answer
ANSWER = "".join(PIECES)
USAGE = {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14}

COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-interop-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": USAGE,
    "system_fingerprint": "fp_interop",
}
BODY = json.dumps(COMPLETION).encode()
HALVES = [BODY[: len(BODY) // 2], BODY[len(BODY) // 2 :]]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-interop-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": MODEL,
        "system_fingerprint": "fp_interop",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def stream_chunks(include_usage: bool) -> list[dict[str, Any]]:
    """The chunk objects of the streamed answer, as the real service sends them."""
    chunks = [_chunk({"role": "assistant", "content": ""})]
    chunks += [_chunk({"content": piece}) for piece in PIECES]
    chunks.append(_chunk({}, "stop"))
    if include_usage:
        last = _chunk({})
        last["choices"] = []
        last["usage"] = USAGE
        chunks.append(last)
    return chunks


def sse_events(payload: dict[str, Any]) -> list[bytes]:
    """One ``data:`` event per write, as bytes on the wire, ending with ``data: [DONE]``."""
    include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
    events = [b"data: " + json.dumps(c).encode() + b"\n\n" for c in stream_chunks(include_usage)]
    return events + [b"data: [DONE]\n\n"]


@dataclass
class Seen:
    """What the app received: (method, path, JSON body) per request."""

    requests: list[tuple[str, str, Any]] = field(default_factory=list)


def framing_of(path: str) -> str | None:
    """``"length"`` or ``"chunked"`` from ``/length/v1/chat/completions``; None for any other path."""
    parts = path.split("/")
    if len(parts) == 5 and parts[2:] == ["v1", "chat", "completions"] and parts[1] in ("length", "chunked"):
        return parts[1]
    return None


# --- ASGI (uvicorn, hypercorn) ---


def asgi_app(seen: Seen, ready: threading.Event) -> Callable[..., Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                    ready.set()
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        payload = json.loads(body) if body else None
        seen.requests.append((scope["method"], scope["path"], payload))
        framing = framing_of(scope["path"])
        if scope["method"] != "POST" or framing is None or not isinstance(payload, dict):
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if payload.get("stream"):
            headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            for event in sse_events(payload):
                await send({"type": "http.response.body", "body": event, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif framing == "length":
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})
        else:
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": HALVES[0], "more_body": True})
            await send({"type": "http.response.body", "body": HALVES[1], "more_body": True})
            await send({"type": "http.response.body", "body": b""})

    return app


# --- aiohttp ---


def aiohttp_app(seen: Seen) -> Any:
    from aiohttp import web

    async def chat(request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        seen.requests.append((request.method, request.path, payload))
        framing = request.match_info["framing"]
        if framing not in ("length", "chunked"):
            raise web.HTTPNotFound()
        if payload.get("stream"):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for event in sse_events(payload):
                await response.write(event)
            await response.write_eof()
            return response
        if framing == "length":
            return web.Response(body=BODY, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for half in HALVES:
            await response.write(half)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/{framing}/v1/chat/completions", chat)
    return app


# --- running a server in a thread ---


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class RunningServer:
    """One third-party server on 127.0.0.1 in a background thread: ``kind`` is
    ``uvicorn-h11``, ``uvicorn-httptools``, ``hypercorn`` or ``aiohttp``.

    ``certfile``/``keyfile`` turn TLS on. ``seen`` records what the app received.
    """

    def __init__(self, kind: str, certfile: str | None = None, keyfile: str | None = None) -> None:
        self.kind = kind
        self.certfile, self.keyfile = certfile, keyfile
        self.seen = Seen()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._sock = _listening_socket()
        self.port = self._sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._uvicorn: Any = None
        self._thread = threading.Thread(target=self._run, name=f"interop-{kind}", daemon=True)

    @property
    def scheme(self) -> str:
        return "https" if self.certfile else "http"

    def base_url(self, framing: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{framing}/v1"

    def start(self) -> RunningServer:
        self._thread.start()
        if not self.ready.wait(START_SECONDS) or self.error is not None:
            self.stop()
            raise RuntimeError(f"{self.kind} did not start within {START_SECONDS}s: {self.error!r}")
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        elif self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_SECONDS)
        alive = self._thread.is_alive()
        self._sock.close()
        assert not alive, f"{self.kind} did not stop within {STOP_SECONDS}s"

    def _run(self) -> None:
        try:
            if self.kind.startswith("uvicorn-"):
                self._run_uvicorn(self.kind.split("-", 1)[1])
            else:
                asyncio.run(self._main())
        except BaseException as exc:  # reported by start(); a test thread must not die silently
            self.error = exc
            self.ready.set()

    def _run_uvicorn(self, http: str) -> None:
        import uvicorn

        config = uvicorn.Config(
            asgi_app(self.seen, self.ready),
            http=http,
            lifespan="on",
            log_level="warning",
            access_log=False,
            ssl_certfile=self.certfile,
            ssl_keyfile=self.keyfile,
        )
        self._uvicorn = uvicorn.Server(config)
        self._uvicorn.run(sockets=[self._sock])

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.kind == "hypercorn":
            await self._hypercorn()
        elif self.kind == "aiohttp":
            await self._aiohttp()
        else:
            raise ValueError(f"unknown server kind {self.kind!r}")

    async def _hypercorn(self) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{os.dup(self._sock.fileno())}"]  # hypercorn closes its own copy
        config.alpn_protocols = ["http/1.1"]
        config.accesslog = None
        config.errorlog = None
        if self.certfile:
            config.certfile, config.keyfile = self.certfile, self.keyfile
        assert self._stop is not None
        await serve(asgi_app(self.seen, self.ready), config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

    async def _aiohttp(self) -> None:
        from aiohttp import web

        context = None
        if self.certfile:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certfile, self.keyfile)
        runner = web.AppRunner(aiohttp_app(self.seen), access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, self._sock, ssl_context=context).start()
            self.ready.set()
            assert self._stop is not None
            await self._stop.wait()
        finally:
            await runner.cleanup()
