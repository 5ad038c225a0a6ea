"""Secrets and redaction: how a credential is shown, in every view, trace, HAR, repr and error.

Two forms, one rule each:

    sk-…abcd     an API key: the kind ("sk-"), an ellipsis for the hidden part,
                 the last 4 characters. The OpenAI dashboard lists keys the
                 same way, so a user can tell which key a call used.
    ***          everything else: a proxy password, Basic credentials, and any
                 key shorter than 12 characters. A fixed mask gives away
                 nothing, not even the length: a password is chosen by a
                 person (short, often reused), and four characters of a short
                 secret are most of it; no list of passwords needs the hint.

``redact()`` gives a key's form, ``MASK`` the fixed one; ``redact_text()``
and ``redact_bytes()`` replace every secret in a text. A secret given as a
plain ``str`` is a key; ``Secret.password(...)`` marks one for the mask.

This module imports nothing from wire: the settings' ``repr`` needs it, and
they come first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Key prefixes that say what kind of key it is but nothing secret; longest first.
# "sk-proj-…" and "sk-…" keys are both shown as "sk-…abcd".
KEY_PREFIXES = ("sk-proj-", "sk-svcacct-", "sk-admin-", "sk-")
# A secret shorter than this is masked whole: four visible characters would give away too much.
MIN_REDACT_LEN = 12
# What a password, Basic credentials or a short key is shown as.
MASK = "***"


def redact(secret: str) -> str:
    """An API key as safe to show: ``"sk-…abcd"`` (known prefix, ellipsis, last 4).

    Only ``"sk-"`` of a known prefix is kept; an unknown prefix is dropped
    (``"…abcd"``); a secret shorter than 12 characters becomes ``"***"``.
    """
    if len(secret) < MIN_REDACT_LEN:
        return MASK
    shown = "sk-" if secret.startswith(KEY_PREFIXES) else ""
    return f"{shown}…{secret[-4:]}"


@dataclass(frozen=True, repr=False)
class Secret:
    """A string no view may show (``value``), and what views show instead (``shown``)."""

    value: str
    shown: str

    @classmethod
    def key(cls, value: str) -> Secret:
        """An API key or bearer token: shown as ``sk-…abcd``."""
        return cls(value, redact(value))

    @classmethod
    def password(cls, value: str) -> Secret:
        """A password or credentials carrying one: shown as ``***``."""
        return cls(value, MASK)

    def __repr__(self) -> str:
        return f"Secret(shown={self.shown!r})"


def _secrets(secrets: Iterable[str | Secret]) -> list[Secret]:
    """Each secret as a ``Secret`` (a plain string is a key); empty ones dropped."""
    out = [Secret.key(s) if isinstance(s, str) else s for s in secrets]
    return [s for s in out if s.value]


def redact_text(text: str, secrets: Iterable[str | Secret]) -> str:
    """``text`` with each secret replaced by its shown form (``sk-…abcd`` or ``***``)."""
    for secret in _secrets(secrets):
        text = text.replace(secret.value, secret.shown)
    return text


def redact_bytes(data: bytes, secrets: Iterable[str | Secret]) -> bytes:
    """``data`` with each secret's UTF-8 bytes replaced by its shown form."""
    for secret in _secrets(secrets):
        data = data.replace(secret.value.encode("utf-8", "replace"), secret.shown.encode())
    return data


def redact_proxy_url(value: str) -> str:
    """A proxy URL as safe to show: the password (between ``user:`` and ``@``) replaced by ``***``."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = userinfo.split(":", 1)[0] + f":{MASK}@" + hostport
    return f"{scheme}{sep}{netloc}{tail}"
