"""Proxies: settings from the environment, NO_PROXY, and a CONNECT tunnel through a local proxy on loopback."""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

import pytest

import wire
from wire.client import Client
from wire.config import Settings
from wire.errors import ConfigError, NetworkError, ProxyError
from wire.fake import DEMO_CA_FILE, FakeServer
from wire.har import to_har
from wire.proxy import ProxyInfo, connect_request_bytes, no_proxy_match, proxy_for, proxy_from_url
from wire.secrets import redact_proxy_url, redact_text
from wire.show import secrets_of, tunnel_view
from wire.transport import Connection

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
PROMPT = "Tell me a fun fact about HTTP."
USER = "alice"
PASSWORD = "s3cr3t:p@ss/word"  # needs percent-encoding in a URL
PASSWORD_IN_URL = "s3cr3t%3Ap%40ss%2Fword"
PROXY_VARS = (
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "no_proxy",
    "NO_PROXY",
    "all_proxy",
    "ALL_PROXY",
)
# Bounds: how long the test proxy waits on a socket, and how long stop() waits for its threads.
IO_SECONDS = 5.0
JOIN_SECONDS = 5.0


# --- a tiny CONNECT proxy, written here so it shares nothing with wire ---


@dataclass
class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that serves CONNECT only: a thread per client, a select() relay.

    ``auth`` (user, password) makes it demand ``Proxy-Authorization: Basic``;
    ``reply`` makes it answer every CONNECT with those bytes and close.
    ``heads`` keeps each CONNECT request head exactly as received.
    """

    auth: tuple[str, str] | None = None
    reply: bytes | None = None
    heads: list[bytes] = field(default_factory=list)
    port: int = 0
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _sockets: list[socket.socket] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> ConnectProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(0.05)  # the accept loop looks at _stopping this often
        self._listener, self.port = listener, listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._stopping.set()
        for sock in list(self._sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in list(self._threads):
            thread.join(JOIN_SECONDS)
            assert not thread.is_alive(), "the test proxy did not stop"
        assert self._listener is not None
        self._listener.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(IO_SECONDS)
            self._sockets.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = client.recv(4096)
                if not data:
                    return
                head += data
            self.heads.append(head)
            if self.reply is not None:
                client.sendall(self.reply)
                return
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].split(b" ")
            if method != b"CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if self.auth is not None:
                expected = b"Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode())
                given = [
                    line.split(b":", 1)[1].strip()
                    for line in lines[1:]
                    if line.lower().startswith(b"proxy-authorization:")
                ]
                if given != [expected]:
                    body = b"proxy authentication required\n"
                    client.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="wire-test"\r\n'
                        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
                    )
                    return
            host, _, port = target.decode().rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=IO_SECONDS)
            self._sockets.append(upstream)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._relay(client, upstream)
        except OSError:
            pass
        finally:
            client.close()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stopping.is_set():
                readable, _, _ = select.select([a, b], [], [], IO_SECONDS)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        finally:
            b.close()


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no proxy variables, whatever the machine running the tests has set."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    yield


def assert_no_password(text: str) -> None:
    assert PASSWORD not in text and PASSWORD_IN_URL not in text
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text


# --- settings: which proxy, if any ---


@pytest.mark.parametrize(
    ("environ", "scheme", "expected"),
    [
        ({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, "https", ("lower", 1, "https_proxy")),
        ({"HTTPS_PROXY": "http://upper:2"}, "https", ("upper", 2, "HTTPS_PROXY")),
        ({"https_proxy": "", "HTTPS_PROXY": "http://upper:2"}, "https", ("upper", 2, "HTTPS_PROXY")),
        ({"http_proxy": "http://plain:3", "HTTPS_PROXY": "http://upper:2"}, "http", ("plain", 3, "http_proxy")),
        ({"HTTP_PROXY": "http://plain:3"}, "http", ("plain", 3, "HTTP_PROXY")),
        ({"http_proxy": "http://plain:3"}, "https", None),  # an http proxy variable is not used for https
        ({"HTTPS_PROXY": "http://upper:2"}, "http", None),
        ({"ALL_PROXY": "http://all:4"}, "https", None),  # not read
        ({}, "https", None),
    ],
)
def test_proxy_variable_precedence(environ: dict[str, str], scheme: str, expected: tuple[str, int, str] | None) -> None:
    settings = Settings.load(environ=environ)
    proxy = proxy_for(settings, scheme, "api.openai.com", 443)
    assert (None if proxy is None else (proxy.host, proxy.port, proxy.source)) == expected


def test_proxy_for_defaults_to_the_base_url() -> None:
    settings = Settings.load(environ={"OPENAI_BASE_URL": "http://example.test:8080/v1", "http_proxy": "proxy:3128"})
    assert proxy_for(settings) == ProxyInfo(host="proxy", port=3128, source="http_proxy")


def test_proxy_url_parts_are_percent_decoded() -> None:
    proxy = proxy_from_url(f"http://{USER}:{PASSWORD_IN_URL}@Proxy.Example:3128/", "HTTPS_PROXY")
    assert (proxy.host, proxy.port, proxy.username, proxy.password) == ("proxy.example", 3128, USER, PASSWORD)
    assert proxy.url == "http://alice:***@proxy.example:3128"
    assert repr(proxy) == "ProxyInfo(url='http://alice:***@proxy.example:3128', source='HTTPS_PROXY')"
    assert proxy_from_url("proxy.example") == ProxyInfo(host="proxy.example", port=80)  # no scheme: http, port 80
    assert proxy_from_url("http://u@[::1]:8").url == "http://u@[::1]:8"  # a user and no password


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"https://{USER}:{PASSWORD_IN_URL}@proxy:443", "TLS to the proxy itself"),
        (f"socks5://{USER}:{PASSWORD_IN_URL}@proxy:1080", "socks5:// proxies are not supported"),
        (f"http://{USER}:{PASSWORD_IN_URL}@:3128", "has no host"),
        (f"http://{USER}:{PASSWORD_IN_URL}@proxy:99999", "bad port"),
        (f"http://{USER}:{PASSWORD_IN_URL}@[::1:3128", "is not a URL: Invalid IPv6 URL"),
    ],
)
def test_unusable_proxy_url_is_config_error_without_the_password(url: str, words: str) -> None:
    settings = Settings.load(environ={"HTTPS_PROXY": url})
    with pytest.raises(ConfigError) as info:
        proxy_for(settings, "https", "api.openai.com", 443)
    assert words in str(info.value) and "HTTPS_PROXY" in str(info.value)
    assert_no_password(str(info.value))


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "match"),
    [
        ("*", "api.openai.com", 443, "*"),
        ("example.com", "example.com", 443, "example.com"),
        ("example.com", "api.example.com", 443, "example.com"),
        (".example.com", "api.example.com", 443, ".example.com"),
        (".example.com", "example.com", 443, ".example.com"),
        ("*.example.com", "a.b.example.com", 443, "*.example.com"),
        ("example.com", "badexample.com", 443, None),
        ("EXAMPLE.com", "Api.Example.COM.", 443, "EXAMPLE.com"),
        ("other.org, example.com:8443", "example.com", 8443, "example.com:8443"),
        ("example.com:8443", "example.com", 443, None),
        ("10.0.0.0/8", "10.1.2.3", 443, "10.0.0.0/8"),
        ("127.0.0.1", "127.0.0.1", 1234, "127.0.0.1"),
        ("127.0.0.1", "localhost", 1234, None),  # no DNS lookups: a name never matches an IP entry
        ("localhost", "127.0.0.1", 1234, None),
        ("::1", "::1", 443, "::1"),
        ("[::1]:8080", "::1", 8080, "[::1]:8080"),
        ("a.org b.org", "b.org", 443, "b.org"),  # spaces separate entries too
        ("", "api.openai.com", 443, None),
    ],
)
def test_no_proxy_rules(no_proxy: str, host: str, port: int, match: str | None) -> None:
    assert no_proxy_match(no_proxy, host, port) == match


def test_no_proxy_lower_case_wins_and_localhost_is_not_implicit() -> None:
    environ = {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "other.org", "NO_PROXY": "localhost"}
    settings = Settings.load(environ=environ)
    assert proxy_for(settings, "https", "localhost", 443) is not None  # NO_PROXY is overridden by no_proxy
    assert proxy_for(settings, "https", "127.0.0.1", 443) is not None  # loopback is not exempt by itself
    assert proxy_for(settings, "https", "api.other.org", 443) is None


def test_settings_repr_redacts_the_proxy_password() -> None:
    url = f"http://{USER}:{PASSWORD_IN_URL}@proxy:3128"
    settings = Settings.load(
        environ={"HTTPS_PROXY": url, "http_proxy": f"{USER}:{PASSWORD_IN_URL}@p2:1", "OPENAI_API_KEY": KEY}
    )
    text = repr(settings)
    assert "proxies={'HTTPS_PROXY': 'http://alice:***@proxy:3128', 'http_proxy': 'alice:***@p2:1'}" in text
    assert_no_password(text)
    assert redact_proxy_url("http://u:p@ss@host:1/path") == "http://u:***@host:1/path"
    assert redact_proxy_url("http://host:1") == "http://host:1"


def test_connect_request_bytes() -> None:
    plain = ProxyInfo(host="proxy", port=3128)
    assert connect_request_bytes(plain, "api.openai.com", 443) == (
        b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n"
    )
    assert connect_request_bytes(plain, "::1", 8443).startswith(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n")
    authed = ProxyInfo(host="proxy", port=3128, username=USER, password=PASSWORD)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert connect_request_bytes(authed, "h", 1) == (
        f"CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nProxy-Authorization: Basic {token}\r\n\r\n".encode()
    )
    with pytest.raises(wire.InvalidHeader):
        connect_request_bytes(plain, "evil\r\nX-Injected: 1", 443)


@pytest.mark.parametrize(
    ("host", "port"),
    [("a b", 443), ("host/path", 443), ("h", 123456), ("h@x", 1), ("[::1", 443), ("h\x00", 1), ("", 443)],
)
def test_a_connect_target_that_is_not_an_authority_is_refused(host: str, port: int) -> None:
    """RFC 9112 §3.2.3: authority-form = uri-host ":" port (the rule in wire/grammar.py)."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with pytest.raises(wire.InvalidHeader) as info:
        connect_request_bytes(ProxyInfo(host="proxy", port=3128), host, port)
    assert str(info.value) == f"{authority!r} is not a valid host:port for CONNECT (RFC 9112 §3.2.3)"


@pytest.mark.parametrize("host", ["api.openai.com", "10.0.0.1", "x-y_z~1", "%41", "a!$&'()*+,;=b"])
def test_every_reg_name_character_is_a_connect_target(host: str) -> None:
    assert connect_request_bytes(ProxyInfo(host="proxy", port=3128), host, 443).startswith(
        f"CONNECT {host}:443 HTTP/1.1\r\n".encode()
    )


# --- through a real tunnel on loopback ---


def proxied_client(server: FakeServer, proxy_url: str, monkeypatch: pytest.MonkeyPatch, **kw: object) -> Client:
    monkeypatch.setenv("HTTPS_PROXY", proxy_url)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    return Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5, max_retries=0, **kw)  # type: ignore[arg-type]


def test_tls_through_a_connect_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(tls=True) as server, ConnectProxy() as proxy:
        port = server.base_url.split(":")[2].split("/")[0]
        direct = Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5).chat(PROMPT)
        with proxied_client(server, proxy.url, monkeypatch) as client:
            exchange = client.chat(PROMPT)
        heads = list(proxy.heads)
    connect = f"CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode()
    assert heads == [connect]
    tunnel = exchange.tunnel
    assert tunnel is not None and exchange.attempts[0].tunnel is tunnel
    assert tunnel.request_bytes == connect
    assert tunnel.response_bytes == b"HTTP/1.1 200 Connection established\r\n\r\n"
    assert tunnel.status == 200 and tunnel.target == f"localhost:{port}"
    assert [r.direction for r in tunnel.records] == ["out", "in"]
    # The records are the HTTP inside TLS inside the tunnel, the same as without a proxy.
    assert exchange.request_bytes.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert exchange.records[0].data == exchange.request_bytes[: len(exchange.records[0].data)]
    assert exchange.response_bytes.startswith(b"HTTP/1.1 200 OK\r\n")
    assert exchange.json == direct.json
    assert (
        exchange.tls is not None
        and exchange.tls.server_hostname == "localhost"
        and "DNS:localhost" in exchange.tls.peer_sans
    )
    assert exchange.peer == ("127.0.0.1", proxy.port)  # TCP went to the proxy
    t = exchange.timings
    assert t.connect is not None and t.tunnel is not None and t.tls is not None
    assert t.connect <= t.tunnel <= t.tls
    assert list(t.phases()) == ["dns", "connect", "tunnel", "tls", "send", "wait", "receive"]
    opening = [f"{e.name}.{e.step}" for e in exchange.trace if e.name.startswith(("connection.", "proxy."))]
    assert opening == [
        "connection.open.started",
        "connection.dns.started",
        "connection.dns.complete",
        "connection.tcp.started",
        "connection.tcp.complete",
        "proxy.connect.started",
        "proxy.connect.complete",
        "connection.tls.started",
        "connection.tls.complete",
        "connection.open.complete",
    ]
    connect_steps = [e for e in exchange.trace if e.name == "proxy.connect"]
    assert connect_steps[0].info == {"proxy": proxy.url, "target": f"localhost:{port}"}
    assert connect_steps[1].info == {"status": 200} and connect_steps[0].time < connect_steps[1].time
    view = tunnel_view(tunnel)
    assert f"> CONNECT localhost:{port} HTTP/1.1\\r\\n" in view
    assert "< HTTP/1.1 200 Connection established\\r\\n" in view


def test_streamed_call_through_the_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(tls=True) as server, ConnectProxy() as proxy:
        expected = Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5).chat(PROMPT)
        with proxied_client(server, proxy.url, monkeypatch) as client:
            stream = client.stream(PROMPT)
            text = "".join(stream)
    assert text == expected.text != ""
    assert stream.exchange.tunnel is not None and stream.exchange.tunnel.status == 200
    assert stream.exchange.sse_events[-1].data == "[DONE]"


def test_kept_connection_reuses_the_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(tls=True) as server, ConnectProxy() as proxy:
        with proxied_client(server, proxy.url, monkeypatch) as client:
            first = client.chat(PROMPT)
            second = client.chat(PROMPT)
        heads = len(proxy.heads)
    assert heads == 1 and second.reused and second.tunnel is first.tunnel
    assert second.json == first.json


def test_plain_http_target_is_tunnelled_too(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer() as server, ConnectProxy() as proxy:
        port = server.base_url.split(":")[2].split("/")[0]
        with proxied_client(server, proxy.url, monkeypatch) as client:
            exchange = client.chat(PROMPT)
        heads = list(proxy.heads)
    assert heads == [f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()]
    assert exchange.tls is None and exchange.request_bytes.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert exchange.response is not None and exchange.response.status == 200


def test_proxy_authentication_from_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(tls=True) as server, ConnectProxy(auth=(USER, PASSWORD)) as proxy:
        url = f"http://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{proxy.port}"
        with proxied_client(server, url, monkeypatch) as client:
            exchange = client.chat(PROMPT)
        heads = list(proxy.heads)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert len(heads) == 1 and f"\r\nProxy-Authorization: Basic {token}\r\n".encode() in heads[0]
    assert exchange.response is not None and exchange.response.status == 200
    assert exchange.tunnel is not None
    view = tunnel_view(exchange.tunnel)
    assert "> Proxy-Authorization: Basic ***\\r\\n" in view
    assert f"proxy    http://alice:***@127.0.0.1:{proxy.port} (from HTTPS_PROXY)" in view
    for text in (view, repr(exchange), repr(exchange.tunnel), repr(client), repr(client.settings)):
        assert_no_password(text)
    assert token in tunnel_view(exchange.tunnel, show_secrets=True)  # only when asked
    # One redaction everywhere (wire/secrets.py): the key as sk-…wxyz, a password and Basic credentials as ***.
    secrets = secrets_of(exchange)
    assert [s.shown for s in secrets] == ["sk-…wxyz", "***", "***"]
    assert redact_text(f"{KEY} {token} {PASSWORD}", secrets) == "sk-…wxyz *** ***"
    har = json.dumps(to_har(exchange), ensure_ascii=False)
    assert_no_password(har)


@pytest.mark.parametrize("credentials", [None, (USER, "wrong-password-1234")])
def test_407_is_a_proxy_error_that_never_shows_the_password(
    monkeypatch: pytest.MonkeyPatch, credentials: tuple[str, str] | None
) -> None:
    with FakeServer(tls=True) as server, ConnectProxy(auth=(USER, PASSWORD)) as proxy:
        userinfo = "" if credentials is None else f"{credentials[0]}:{credentials[1]}@"
        client = proxied_client(server, f"http://{userinfo}127.0.0.1:{proxy.port}", monkeypatch)
        with pytest.raises(ProxyError) as info:
            client.chat(PROMPT)
        calls = len(proxy.heads)
    err = info.value
    failed = [e for e in err.exchange.trace if e.step == "failed"]
    assert [e.name for e in failed][:2] == ["proxy.connect", "connection.open"]
    assert calls == 1  # a refusal by the proxy is not retried (max_retries=0 aside: see the client)
    assert err.status == 407 and err.phase == "tunnel" and isinstance(err, NetworkError)
    assert err.received.startswith(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
    assert err.received.endswith(b"\r\n\r\nproxy authentication required\n")
    assert err.tunnel is not None and err.tunnel.status == 407
    text = str(err)
    assert f"127.0.0.1:{proxy.port}" in text and 'Basic realm="wire-test"' in text
    if credentials is None:
        assert "requires authentication" in text and "http://user:password@" in text
        assert err.proxy == f"http://127.0.0.1:{proxy.port}"
    else:
        assert "refused the credentials of user 'alice' (proxy authentication failed)" in text
        assert err.proxy == f"http://alice:***@127.0.0.1:{proxy.port}"
        assert "wrong-password-1234" not in text + repr(err.tunnel) + tunnel_view(err.tunnel)
        assert "wrong-password" not in repr(client.settings)
    assert_no_password(text)


def test_407_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    with FakeServer(tls=True) as server, ConnectProxy(auth=(USER, PASSWORD)) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        client = Client(base_url=server.base_url, api_key=KEY, ca_file=DEMO_CA_FILE, timeout=5, sleep=waits.append)
        with pytest.raises(ProxyError):
            client.chat(PROMPT)
        calls = len(proxy.heads)
    assert calls == 1 and waits == []


def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeServer(tls=True) as server, ConnectProxy() as proxy:
        monkeypatch.setenv("NO_PROXY", "example.org,localhost")
        with proxied_client(server, proxy.url, monkeypatch) as client:
            exchange = client.chat(PROMPT)
        heads = list(proxy.heads)
    assert heads == [] and exchange.tunnel is None
    assert exchange.response is not None and exchange.response.status == 200
    assert "tunnel" not in exchange.timings.phases()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
            "refused to open a tunnel to localhost:{port}: 502 Bad Gateway — the proxy could not reach",
        ),
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "403 Forbidden — the proxy forbids this target"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", "is not valid HTTP/1.1"),
        (b"HTTP/1.1 200 OK\r\n", "closed the connection before its reply to CONNECT localhost:{port} was complete"),
        (b"HTTP/1.1 200 OK\r\n\r\nhello", "sent 5 bytes after its 200 reply to CONNECT"),
    ],
)
def test_a_misbehaving_proxy_is_a_clear_proxy_error(reply: bytes, words: str) -> None:
    with FakeServer(tls=True) as server, ConnectProxy(reply=reply) as proxy:
        port = int(server.base_url.split(":")[2].split("/")[0])
        info = ProxyInfo(host="127.0.0.1", port=proxy.port, username=USER, password=PASSWORD)
        with pytest.raises(ProxyError) as caught:
            Connection.open("localhost", port, tls=True, ca_file=DEMO_CA_FILE, timeouts=5, proxy=info)
    err = caught.value
    assert words.format(port=port) in str(err)
    assert err.received == reply
    assert err.tunnel is not None and err.tunnel.response_bytes == reply
    assert_no_password(str(err))


def test_proxy_not_listening_is_a_connect_error_naming_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with ConnectProxy() as proxy:
        port = proxy.port
    # The proxy has stopped: nothing listens on its port now.
    with FakeServer(tls=True) as server:
        client = proxied_client(server, f"http://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{port}", monkeypatch)
        with pytest.raises(NetworkError) as info:
            client.chat(PROMPT)
    assert info.value.phase == "connect" and f"127.0.0.1 port {port}" in str(info.value)
    assert_no_password(str(info.value))
