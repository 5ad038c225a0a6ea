"""Settings: the API key, the base URL and the model, and where each came from.

Three places are read, the first that has a value wins:

1. the process environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_MODEL``),
2. a ``.env`` file (an explicit path, else the nearest one from the current
   directory upward), read with ``dotenv_values`` so ``os.environ`` is never
   modified,
3. the defaults below (there is no default key).

Nothing here touches the network. The key is kept exactly as written: a stray
``\\r`` from a Windows-edited ``.env`` is not stripped here but rejected by the
request writer (``wire/request.py``), with a message that does not repeat it.

Proxies come from the process environment only (not from ``.env``), with the
names and rules curl and requests use; ``Settings.proxy_for()`` applies them:

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
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values, find_dotenv

from wire.errors import ConfigError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"

ENV_API_KEY = "OPENAI_API_KEY"
ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "OPENAI_MODEL"

# Key prefixes that say what kind of key it is but nothing secret; longest first.
# "sk-proj-…" and "sk-…" keys are both shown as "sk-…abcd".
_KEY_PREFIXES = ("sk-proj-", "sk-svcacct-", "sk-admin-", "sk-")
# A secret shorter than this is shown as "***": four visible characters of a
# short secret would give away too much of it.
_MIN_REDACT_LEN = 12
_DEFAULT_PORTS = {"https": 443, "http": 80}

# The proxy variables read from the environment, lower-case first: the first set one wins.
PROXY_VARS = {"https": ("https_proxy", "HTTPS_PROXY"), "http": ("http_proxy", "HTTP_PROXY")}
NO_PROXY_VARS = ("no_proxy", "NO_PROXY")
# A proxy URL without a port: 80, as requests, urllib3 and Go (curl uses 1080).
DEFAULT_PROXY_PORT = 80


def redact(secret: str) -> str:
    """Return ``secret`` safe to show: ``"sk-…abcd"`` (known prefix, ellipsis, last 4).

    Only ``"sk-"`` of a known prefix is kept; an unknown prefix is dropped
    (``"…abcd"``); a secret shorter than 12 characters becomes ``"***"``.
    """
    if len(secret) < _MIN_REDACT_LEN:
        return "***"
    shown = "sk-" if secret.startswith(_KEY_PREFIXES) else ""
    return f"{shown}…{secret[-4:]}"


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
            user = self.username + (":***" if self.password is not None else "") + "@"
        return f"http://{user}{host}:{self.port}"

    @property
    def address(self) -> str:
        """``host:port`` of the proxy, with no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __repr__(self) -> str:
        return f"ProxyInfo(url={self.url!r}, source={self.source!r})"


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
    parts = urlsplit(text)
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


def redact_proxy_url(value: str) -> str:
    """A proxy URL as safe to show: the password (between ``user:`` and ``@``) replaced by ``***``."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = userinfo.split(":", 1)[0] + ":***@" + hostport
    return f"{scheme}{sep}{netloc}{tail}"


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


@dataclass
class Settings:
    """What a call needs before it can open a socket, plus where each value came from.

    ``sources`` maps ``"api_key"``, ``"base_url"`` and ``"model"`` to
    ``"environment"``, ``".env at /path"`` or ``"default"`` (``api_key`` is
    absent from it when no key was found). ``env_file`` is the ``.env`` path
    read, if any; ``searched`` lists the ``.env`` paths tried. ``proxies``
    holds the proxy variables found in the environment (name -> value, as
    set); ``proxy_for()`` decides from them.
    """

    api_key: str | None = None
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    env_file: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    searched: list[str] = field(default_factory=list)
    proxies: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        key = None if self.api_key is None else redact(self.api_key)
        text = (
            f"Settings(api_key={key!r}, base_url={self.base_url!r}, model={self.model!r}, "
            f"env_file={self.env_file!r}, sources={self.sources!r}"
        )
        if self.proxies:
            shown = {name: redact_proxy_url(value) for name, value in self.proxies.items()}
            text += f", proxies={shown!r}"
        return text + ")"

    @classmethod
    def load(
        cls,
        env_file: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Read the environment and a ``.env`` file; the environment wins.

        ``env_file`` names the ``.env`` to read (a missing file is a
        ``ConfigError``); without it the nearest ``.env`` from the current
        directory upward is used, if there is one. ``environ`` replaces
        ``os.environ`` (tests pass a dict). Nothing is written to ``os.environ``.
        """
        env = os.environ if environ is None else environ
        searched: list[str] = []
        if env_file is not None:
            path = os.path.abspath(os.fspath(env_file))
            searched.append(path)
            if not os.path.isfile(path):
                raise ConfigError(f"the .env file {path} does not exist (pass an existing path, or none to search)")
        else:
            found = find_dotenv(usecwd=True)
            path = os.path.abspath(found) if found else ""
            searched.append(path if found else f"no .env file found from {os.getcwd()} upward")
        file_values = {k: v for k, v in dotenv_values(path).items() if v is not None} if path else {}

        settings = cls(env_file=path or None, searched=searched)
        for attr, name in (("api_key", ENV_API_KEY), ("base_url", ENV_BASE_URL), ("model", ENV_MODEL)):
            if env.get(name):
                setattr(settings, attr, env[name])
                settings.sources[attr] = "environment"
            elif file_values.get(name):
                setattr(settings, attr, file_values[name])
                settings.sources[attr] = f".env at {path}"
            elif attr != "api_key":
                settings.sources[attr] = "default"
        names = [name for names in PROXY_VARS.values() for name in names] + list(NO_PROXY_VARS)
        settings.proxies = {name: env[name] for name in names if env.get(name)}
        return settings

    def proxy_for(
        self, scheme: str | None = None, host: str | None = None, port: int | None = None
    ) -> ProxyInfo | None:
        """The proxy to tunnel through to ``scheme://host:port`` (default: the base URL's), or None to go direct.

        ``https_proxy`` (else ``HTTPS_PROXY``) for https, ``http_proxy`` (else
        ``HTTP_PROXY``) for http, unless ``no_proxy`` (else ``NO_PROXY``)
        exempts the host. Raises ``ConfigError`` for a proxy URL wire cannot use.
        """
        scheme = (scheme or self.scheme).lower()
        host = host if host is not None else self.host
        port = port if port is not None else self.port
        source = next((name for name in PROXY_VARS.get(scheme, ()) if self.proxies.get(name)), None)
        if source is None:
            return None
        no_proxy = next((self.proxies[name] for name in NO_PROXY_VARS if self.proxies.get(name)), "")
        if no_proxy and no_proxy_match(no_proxy, host, port) is not None:
            return None
        return proxy_from_url(self.proxies[source], source)

    def require_key(self) -> str:
        """Return the API key, or raise ``ConfigError`` saying where wire looked and how to fix it."""
        if self.api_key:
            return self.api_key
        looked = [f"the environment variable {ENV_API_KEY}"]
        looked += [s if s.startswith("no .env") else f"the .env file {s}" for s in self.searched]
        if not self.searched:
            looked.append("no .env file (these Settings were not made by Settings.load)")
        raise ConfigError(
            f"no API key: wire looked in {'; '.join(looked)}. "
            f"Fix: put a line {ENV_API_KEY}=sk-... in a .env file in this directory, "
            f"or run `export {ENV_API_KEY}=sk-...`, or pass api_key=... explicitly."
        )

    # -- the base URL, taken apart ------------------------------------------

    def _url(self) -> tuple[str, str, int, str]:
        return _split_base_url(self.base_url)

    @property
    def scheme(self) -> str:
        """``"https"`` or ``"http"``: whether the connection is wrapped in TLS."""
        return self._url()[0]

    @property
    def host(self) -> str:
        """The host name (lower-cased, IPv6 without brackets): DNS name, SNI name and ``Host`` field."""
        return self._url()[1]

    @property
    def port(self) -> int:
        """The TCP port: the one in the URL, else 443 for https and 80 for http."""
        return self._url()[2]

    @property
    def base_path(self) -> str:
        """The path prefix without a trailing slash (``"/v1"``); ``""`` for none."""
        return self._url()[3]


# Every call asks for the scheme, host, port and path: split each base URL once.
@functools.lru_cache(maxsize=32)
def _split_base_url(base_url: str) -> tuple[str, str, int, str]:
    """``https://host:port/v1`` as (scheme, host, port, path), or a ConfigError saying what is wrong."""
    parts = urlsplit(base_url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"base_url {base_url!r} must start with https:// or http:// (got scheme {parts.scheme!r})")
    if not parts.hostname:
        raise ConfigError(f"base_url {base_url!r} has no host; expected e.g. {DEFAULT_BASE_URL}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ConfigError(f"base_url {base_url!r} has a bad port: {exc}") from None
    return scheme, parts.hostname, port, parts.path.rstrip("/")
