"""Settings: the API key, the base URL and the model, and where each came from.

Three places are read, the first that has a value wins:

1. the process environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_MODEL``),
2. a ``.env`` file (an explicit path, else the nearest one from the current
   directory upward), read with ``dotenv_values`` so ``os.environ`` is never
   modified; the file must be UTF-8 (a leading byte order mark is allowed),
   anything else is a ``ConfigError`` that names the file,
3. the defaults below (there is no default key).

Nothing here touches the network. The key is kept exactly as written: a stray
``\\r`` from a Windows-edited ``.env`` is not stripped here but rejected by the
request writer (``wire/request.py``), with a message that does not repeat it.

Proxies come from the process environment only (not from ``.env``), with the
names curl and requests use (``https_proxy``, ``HTTPS_PROXY``, ``http_proxy``,
``HTTP_PROXY``, ``no_proxy``, ``NO_PROXY``): ``Settings.proxies`` keeps them as
set, and ``wire/proxy.py`` decides from them which proxy a call goes through.
"""

from __future__ import annotations

import codecs
import functools
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from dotenv import dotenv_values, find_dotenv

from wire.errors import ConfigError
from wire.secrets import redact, redact_proxy_url

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"

ENV_API_KEY = "OPENAI_API_KEY"
ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "OPENAI_MODEL"

_DEFAULT_PORTS = {"https": 443, "http": 80}

# The proxy variables read from the environment (wire/proxy.py applies them), lower-case first.
PROXY_VARS = {"https": ("https_proxy", "HTTPS_PROXY"), "http": ("http_proxy", "HTTP_PROXY")}
NO_PROXY_VARS = ("no_proxy", "NO_PROXY")


@dataclass
class Settings:
    """What a call needs before it can open a socket, plus where each value came from.

    ``sources`` maps ``"api_key"``, ``"base_url"`` and ``"model"`` to
    ``"environment"``, ``".env at /path"`` or ``"default"`` (``api_key`` is
    absent from it when no key was found). ``env_file`` is the ``.env`` path
    read, if any; ``searched`` lists the ``.env`` paths tried. ``proxies``
    holds the proxy variables found in the environment (name -> value, as
    set); ``wire.proxy.proxy_for(settings)`` decides from them.
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
            if os.path.isdir(path):
                raise ConfigError(f"the .env file {path} is a directory (pass the path of the file itself)")
            if not os.path.exists(path):
                raise ConfigError(f"the .env file {path} does not exist (pass an existing path, or none to search)")
        else:
            found = find_dotenv(usecwd=True)
            path = os.path.abspath(found) if found else ""
            searched.append(path if found else f"no .env file found from {os.getcwd()} upward")
        file_values = _read_env_file(path) if path else {}

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

    def url_parts(self) -> tuple[str, str, int, str]:
        """The base URL taken apart, as the four properties below give it: (scheme, host, port, base_path)."""
        return _split_base_url(self.base_url)

    @property
    def scheme(self) -> str:
        """``"https"`` or ``"http"``: whether the connection is wrapped in TLS."""
        return self.url_parts()[0]

    @property
    def host(self) -> str:
        """The host name (lower-cased, IPv6 without brackets): DNS name, SNI name and ``Host`` field."""
        return self.url_parts()[1]

    @property
    def port(self) -> int:
        """The TCP port: the one in the URL, else 443 for https and 80 for http."""
        return self.url_parts()[2]

    @property
    def base_path(self) -> str:
        """The path prefix without a trailing slash (``"/v1"``); ``""`` for none."""
        return self.url_parts()[3]


def _read_env_file(path: str) -> dict[str, str]:
    """The ``.env`` file's values, or a ConfigError naming the file when it cannot be read as UTF-8.

    python-dotenv opens the file as strict UTF-8, so a Latin-1 byte or a
    UTF-16 file (Windows Notepad's "Unicode") would end in a bare
    ``UnicodeDecodeError``. The bytes are decoded here first, as
    ``utf-8-sig``: UTF-8 that may start with a byte order mark, which Notepad
    also writes and which python-dotenv would otherwise read as part of the
    first name (``\ufeffOPENAI_API_KEY``, never found).
    """
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ConfigError(f"the .env file {path} could not be read: {exc.strerror or exc}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ConfigError(
            f"the .env file {path} is UTF-16 (it starts with the byte order mark {data[:2].hex(' ')}, "
            'as Notepad saves "Unicode"); wire reads .env files as UTF-8: save it again with the encoding UTF-8'
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"the .env file {path} is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}) "
            "is not valid UTF-8 (Latin-1 or Windows-1252 text?); wire reads .env files as UTF-8: "
            "save it again with the encoding UTF-8"
        ) from None
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


# Every call asks for the scheme, host, port and path: split each base URL once.
@functools.lru_cache(maxsize=32)
def _split_base_url(base_url: str) -> tuple[str, str, int, str]:
    """``https://host:port/v1`` as (scheme, host, port, path), or a ConfigError saying what is wrong."""
    try:
        parts = urlsplit(base_url)
    except ValueError as exc:  # a "[" never closed, or brackets around what is no IPv6 address
        raise ConfigError(f"base_url {base_url!r} is not a URL: {exc}") from None
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
