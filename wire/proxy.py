"""Proxies: which one a call goes through, and the CONNECT tunnel through it.

Which proxy. The settings keep the proxy variables as found in the process
environment (not ``.env``); ``proxy_for(settings)`` applies them with the
names and rules curl and requests use:

- ``https_proxy`` / ``HTTPS_PROXY`` for an https target, ``http_proxy`` /
  ``HTTP_PROXY`` for an http one. The lower-case name wins when both are set;
  an empty value counts as unset (as curl). ``ALL_PROXY`` is not read.
- the proxy URL is ``http://[user[:password]@]host[:port]`` (no scheme means
  ``http://``; the default port is 80, as requests and Go, where curl says
  1080). User and password are percent-decoded. An ``https://`` proxy (TLS to
  the proxy itself) and SOCKS are not supported: a ``ConfigError`` says so.
- ``no_proxy`` / ``NO_PROXY`` (lower-case wins): entries split by commas or
  spaces. ``*`` alone: no proxy for any host. A name matches itself and every
  name below it (``example.com`` and ``.example.com`` both match
  ``example.com`` and ``api.example.com``, not ``badexample.com``); ``host:port``
  matches that port only; an IP address or CIDR block (``10.0.0.0/8``,
  ``::1``) matches a target given as an IP, never a name (no DNS lookups).
  ``localhost`` and ``127.0.0.1`` are not exempt unless listed, as in curl
  and requests: ``NO_PROXY=localhost,127.0.0.1`` is the usual line.

The tunnel. ``Connection.open(..., proxy=ProxyInfo)`` sends DNS and TCP to
the proxy, then runs ``open_tunnel`` on the plain TCP connection: wire writes
``CONNECT host:port HTTP/1.1`` (with ``Proxy-Authorization: Basic ...`` when
the proxy URL has a user), reads the proxy's reply head with the HTTP/1.1
parser, and on a 2xx the socket is a tunnel to the server: TLS runs inside
it, end to end, with SNI and the certificate check for the *server's* name;
the proxy sees only ciphertext. Both sides of the CONNECT exchange are kept
on ``Connection.tunnel`` (a ``TunnelInfo``), apart from the connection's
``records``, which stay the HTTP of the real request. A plain ``http://``
target is tunnelled the same way (CONNECT, then the request as if direct),
rather than sent to the proxy in absolute-form: one path, and the request
bytes are the same with or without a proxy. Some proxies allow CONNECT to
port 443 only; they answer such a tunnel with 403.

The password is shown as ``***`` everywhere (``wire/secrets.py``).
"""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from wire import grammar
from wire.config import NO_PROXY_VARS, PROXY_VARS, Settings
from wire.errors import (
    ConfigError,
    IncompleteMessage,
    InvalidHeader,
    NetworkError,
    ProtocolError,
    ProxyError,
    Timeout,
    WireError,
)
from wire.http11 import Response, ResponseParser
from wire.secrets import MASK, Secret, redact_proxy_url
from wire.transport import Connection, OnStep, Record

# A proxy URL without a port: 80, as requests, urllib3 and Go (curl uses 1080).
DEFAULT_PROXY_PORT = 80


# -- which proxy -------------------------------------------------------------------


def proxy_for(
    settings: Settings, scheme: str | None = None, host: str | None = None, port: int | None = None
) -> ProxyInfo | None:
    """The proxy to tunnel through to ``scheme://host:port`` (default: the base URL's), or None to go direct.

    ``https_proxy`` (else ``HTTPS_PROXY``) for https, ``http_proxy`` (else
    ``HTTP_PROXY``) for http, unless ``no_proxy`` (else ``NO_PROXY``)
    exempts the host. Raises ``ConfigError`` for a proxy URL wire cannot use.
    """
    proxies = settings.proxies
    if not proxies:  # no proxy variable was set (the usual case): go direct
        return None
    scheme = (scheme or settings.scheme).lower()
    host = host if host is not None else settings.host
    port = port if port is not None else settings.port
    source = next((name for name in PROXY_VARS.get(scheme, ()) if proxies.get(name)), None)
    if source is None:
        return None
    no_proxy = next((proxies[name] for name in NO_PROXY_VARS if proxies.get(name)), "")
    if no_proxy and no_proxy_match(no_proxy, host, port) is not None:
        return None
    return proxy_from_url(proxies[source], source)


@dataclass(frozen=True)
class ProxyInfo:
    """An HTTP proxy to tunnel through: from ``http://user:password@host:port`` in ``source``.

    ``username`` and ``password`` are percent-decoded (``None`` when the URL
    has none). ``url`` shows the proxy with the password as ``***``; so do
    ``repr()`` and every view and error message.
    """

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    source: str = ""  # the environment variable it came from, e.g. "https_proxy"

    @property
    def url(self) -> str:
        """``http://user:***@host:port``: the proxy without its password, safe to show."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = ""
        if self.username is not None:
            user = self.username + (f":{MASK}" if self.password is not None else "") + "@"
        return f"http://{user}{host}:{self.port}"

    @property
    def address(self) -> str:
        """``host:port`` of the proxy, with no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        return f"ProxyInfo(url={self.url!r}, source={self.source!r})"

    def open_tunnel(self, conn: Connection, host: str, port: int, on_step: OnStep) -> TunnelInfo:
        """The step ``Connection.open`` runs between TCP and TLS: ``open_tunnel(conn, self, host, port)``."""
        return open_tunnel(conn, self, host, port, on_step)


def proxy_from_url(value: str, source: str = "") -> ProxyInfo:
    """Parse a proxy URL (``http://user:pass@host:port``; no scheme means http) into a ``ProxyInfo``.

    Raises ``ConfigError`` for an unsupported scheme, no host or a bad port;
    the message shows the URL with its password as ``***``.
    """
    shown = redact_proxy_url(value)
    where = f" (from {source})" if source else ""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # a "[" never closed, or brackets around no IPv6 address; the text holds no password
        raise ConfigError(f"proxy {shown!r}{where} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "http":
        why = (
            "TLS to the proxy itself (an https:// proxy) is not supported"
            if scheme == "https"
            else f"{scheme}:// proxies are not supported"
        )
        raise ConfigError(f"proxy {shown!r}{where}: {why}; use an http:// proxy (wire tunnels TLS through it)")
    if not parts.hostname:
        raise ConfigError(f"proxy {shown!r}{where} has no host; expected http://host:port")
    try:
        port = parts.port or DEFAULT_PROXY_PORT
    except ValueError as exc:
        raise ConfigError(f"proxy {shown!r}{where} has a bad port: {exc}") from None
    username = None if parts.username is None else unquote(parts.username)
    password = None if parts.password is None else unquote(parts.password)
    if username is not None and ":" in username:
        # RFC 7617 §2: the user-id of Basic authentication cannot contain a colon.
        raise ConfigError(f"proxy {shown!r}{where}: the user name contains ':' (RFC 7617 §2 forbids it)")
    return ProxyInfo(host=parts.hostname, port=port, username=username, password=password, source=source)


def no_proxy_match(no_proxy: str, host: str, port: int) -> str | None:
    """The ``NO_PROXY`` entry that exempts ``host`` (at ``port``) from the proxy, or None.

    The rules are in this module's docstring; matching ignores case and a
    trailing dot, and never resolves a name.
    """
    host = host.strip("[]").rstrip(".").lower()
    try:
        host_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        host_ip = None
    for raw in re.split(r"[,\s]+", no_proxy):
        entry = raw.lower()
        if not entry:
            continue
        if entry == "*":
            return raw
        name, entry_port = _split_host_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        try:
            network = ipaddress.ip_network(name, strict=False)
        except ValueError:
            network = None
        if network is not None:
            if host_ip is not None and host_ip in network:
                return raw
            continue
        name = name.lstrip("*").strip(".")
        if name and (host == name or host.endswith("." + name)):
            return raw
    return None


def _split_host_port(entry: str) -> tuple[str, int | None]:
    """``"[::1]:8080"`` -> (``"::1"``, 8080); ``"::1"`` -> (``"::1"``, None); ``"h:80"`` -> (``"h"``, 80)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


# -- the tunnel --------------------------------------------------------------------


@dataclass(repr=False)
class TunnelInfo:
    """A CONNECT tunnel through an HTTP proxy: both sides of the exchange, as bytes.

    ``target`` is ``host:port`` (the request-target of CONNECT, RFC 9110
    §9.3.6); ``request_bytes`` what wire sent to the proxy (it holds the
    ``Proxy-Authorization`` credentials: redact ``secrets`` before showing);
    ``response_bytes`` the proxy's reply head (its whole reply when it
    refused); ``status`` its status code; ``response`` the parsed reply;
    ``records`` each send and recv with its time, on the connection's clock.
    """

    proxy: ProxyInfo
    target: str
    request_bytes: bytes
    response_bytes: bytes = b""
    status: int | None = None
    response: Response | None = None
    records: list[Record] = field(default_factory=list)

    @property
    def secrets(self) -> list[Secret]:
        """What no view may show, each as ``***``: the proxy password and the Basic credentials carrying it."""
        if self.proxy.username is None:
            return []
        return [Secret.password(s) for s in (_basic_credentials(self.proxy), self.proxy.password) if s]

    def __repr__(self) -> str:
        return (
            f"<TunnelInfo CONNECT {self.target} via {self.proxy.url} -> {self.status}, "
            f"{len(self.request_bytes)} bytes out, {len(self.response_bytes)} bytes in>"
        )


def connect_request_bytes(proxy: ProxyInfo, host: str, port: int) -> bytes:
    """The CONNECT request asking ``proxy`` for a tunnel to ``host:port``, as exact bytes.

        CONNECT api.openai.com:443 HTTP/1.1\\r\\n          request-target in authority-form
        Host: api.openai.com:443\\r\\n                     the same authority (RFC 9110 §7.2)
        Proxy-Authorization: Basic dXNlcjpwYXNz\\r\\n      only when the proxy URL has a user (RFC 7617)
        \\r\\n

    No body, no other fields. ``InvalidHeader`` if the host cannot be an authority.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    # The host is the target's, checked here because the proxy (not wire) resolves it.
    if not grammar.AUTHORITY_FORM_RE.fullmatch(authority):
        raise InvalidHeader(f"{authority!r} is not a valid host:port for CONNECT (RFC 9112 §3.2.3)")
    lines = [f"CONNECT {authority} HTTP/1.1\r\n", f"Host: {authority}\r\n"]
    credentials = _basic_credentials(proxy)
    if credentials is not None:
        lines.append(f"Proxy-Authorization: Basic {credentials}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("ascii")


def _basic_credentials(proxy: ProxyInfo) -> str | None:
    """RFC 7617 §2: base64 of ``user-id ":" password`` in UTF-8, or None when the proxy URL has no user."""
    if proxy.username is None:
        return None
    pair = f"{proxy.username}:{proxy.password or ''}".encode()
    return base64.b64encode(pair).decode("ascii")


def open_tunnel(conn: Connection, proxy: ProxyInfo, host: str, port: int, on_step: OnStep) -> TunnelInfo:
    """CONNECT: ask the proxy for a tunnel to ``host:port`` over ``conn`` (plain TCP) and read its reply head.

    RFC 9110 §9.3.6: any 2xx means the tunnel is open; the reply has no body,
    and every byte after its empty line belongs to the tunnel. Reported to
    ``on_step`` as ``proxy.connect`` started, then complete or failed.
    """
    request = connect_request_bytes(proxy, host, port)
    tunnel = TunnelInfo(proxy=proxy, target=request.split(b" ", 2)[1].decode("ascii"), request_bytes=request)
    on_step("proxy.connect", "started", {"proxy": proxy.url, "target": tunnel.target})
    try:
        _connect_exchange(conn, tunnel)
    except WireError as exc:
        on_step("proxy.connect", "failed", {"error": f"{type(exc).__name__}: {exc}"})
        raise
    on_step("proxy.connect", "complete", {"status": tunnel.status})
    return tunnel


def _connect_exchange(conn: Connection, tunnel: TunnelInfo) -> None:
    """Send the CONNECT request, read the reply head into ``tunnel``; a ProxyError unless it is a clean 2xx."""
    proxy = tunnel.proxy
    parser = ResponseParser(request_method="CONNECT")
    received = bytearray()
    # One limit for the whole exchange (the proxy connects onward meanwhile), cut short by the total.
    limit = conn.timeouts.connect
    until = conn.deadline_after(limit)

    def failed(message: str, status: int | None = None, hint: str | None = None) -> ProxyError:
        tunnel.response_bytes = bytes(received)
        return ProxyError(message, proxy=proxy.url, status=status, received=bytes(received), hint=hint, tunnel=tunnel)

    try:
        tunnel.records.append(conn.send_raw(tunnel.request_bytes, until=until, phase="tunnel"))
        while parser.response is None:
            record = conn.recv_raw(until=until, phase="tunnel")
            if record.data:
                received += record.data
                tunnel.records.append(record)
                parser.feed(record.data)
            else:
                parser.feed_eof()
    except Timeout as exc:
        raise Timeout(
            f"the proxy {proxy.address} did not answer CONNECT {tunnel.target} in time "
            f"({len(received)} bytes of its reply received)",
            phase=exc.phase,
            received=bytes(received),
            limit=exc.limit if exc.phase == "total" else limit,
        ) from exc
    except NetworkError as exc:
        raise NetworkError(
            f"the proxy {proxy.address} failed while we asked it for a tunnel (CONNECT {tunnel.target}): "
            f"{exc.message}; {len(received)} bytes of its reply received",
            phase="tunnel",
            received=bytes(received),
            hint="check HTTPS_PROXY / HTTP_PROXY: is that an HTTP proxy that supports CONNECT?",
        ) from exc
    except IncompleteMessage as exc:
        raise failed(
            f"the proxy {proxy.url} closed the connection before its reply to CONNECT {tunnel.target} "
            f"was complete ({len(received)} bytes received)"
        ) from exc
    except ProtocolError as exc:
        raise failed(f"the reply of the proxy {proxy.url} to CONNECT is not valid HTTP/1.1: {exc}") from exc
    response = parser.response
    tunnel.response, tunnel.status, tunnel.response_bytes = response, response.status, response.raw
    if not 200 <= response.status < 300:
        raise _proxy_refused(tunnel, response)
    if parser.trailing_data:
        # The client speaks first in TLS and in HTTP: nothing may arrive before our first byte.
        raise failed(
            f"the proxy {proxy.url} sent {len(parser.trailing_data)} bytes after its {response.status} reply "
            "to CONNECT, before wire sent anything through the tunnel",
            status=response.status,
        )


def _proxy_refused(tunnel: TunnelInfo, response: Response) -> ProxyError:
    """A non-2xx reply to CONNECT as an error that says why and what to do; never the password."""
    proxy = tunnel.proxy
    status_line = f"{response.status} {response.reason}".rstrip()
    hint = None
    if response.status == 407:
        challenge = response.header("Proxy-Authenticate")
        asks = f" (it asks for: {challenge})" if challenge else ""
        variable = proxy.source or "HTTPS_PROXY"
        if proxy.username is None:
            message = f"the proxy {proxy.url} requires authentication: {status_line}{asks}"
            hint = f"put a user and password in the proxy URL: {variable}=http://user:password@{proxy.address}"
        else:
            message = (
                f"the proxy {proxy.url} refused the credentials of user {proxy.username!r} "
                f"(proxy authentication failed): {status_line}{asks}"
            )
            hint = f"check the user and password in {variable} (percent-encode any ':' '@' '/' in them)"
    else:
        message = f"the proxy {proxy.url} refused to open a tunnel to {tunnel.target}: {status_line}"
        if response.status == 403:
            hint = "the proxy forbids this target; many proxies allow CONNECT to port 443 only"
        elif response.status in (502, 503, 504):
            hint = f"the proxy could not reach {tunnel.target}; check the host and port of base_url"
        elif response.status == 405:
            hint = "this proxy does not support CONNECT tunnels"
    return ProxyError(
        message, proxy=proxy.url, status=response.status, received=tunnel.response_bytes, hint=hint, tunnel=tunnel
    )
