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

import re
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


def secret_spans(data: bytes, secrets: Iterable[str | Secret]) -> list[tuple[int, int, bytes]]:
    """Where each secret occurs in ``data``: ``(start, end, shown form)``, in order."""
    spans: list[tuple[int, int, bytes]] = []
    for secret in _secrets(secrets):
        value = secret.value.encode("utf-8", "replace")
        i = data.find(value)
        while i >= 0:
            spans.append((i, i + len(value), secret.shown.encode()))
            i = data.find(value, i + len(value))
    return sorted(spans)


def replace_spans(whole: bytes, start: int, end: int, spans: list[tuple[int, int, bytes]]) -> bytes:
    """``whole[start:end]`` with each span's bytes replaced: by its shown form where the span begins, else by nothing.

    ``spans`` (sorted, in ``whole``'s offsets) may reach outside the range: a
    span cut by the range's start is dropped from there on, one cut by its end
    is replaced up to there.
    """
    start, end = max(0, start), min(len(whole), end)
    out = bytearray()
    at = start
    for first, last, shown in spans:
        if last <= at or first >= end:
            continue
        if first >= at:
            out += whole[at:first] + shown
        at = min(max(at, last), end)
    out += whole[at:end]
    return bytes(out)


def redact_part(whole: bytes, start: int, end: int, secrets: Iterable[str | Secret]) -> bytes:
    """``whole[start:end]`` redacted, even where a secret is only partly inside the range.

    A view that shows a piece of a longer text (one chunk frame of a body, the
    first bytes of an error) could cut a secret in two, and then neither piece
    matches it. Here every secret is looked for in ``whole``: its part inside
    the range becomes its shown form where the secret begins, and nothing where
    it began before the range.
    """
    return replace_spans(whole, start, end, secret_spans(whole, secrets))


class StreamRedactor:
    """Redact text that arrives piece by piece (streamed deltas), where a secret may span pieces.

    ``feed()`` returns what is safe to show now: it holds back the end of the
    text while it could still be the start of a secret. ``flush()`` returns
    the rest once the stream has ended.
    """

    def __init__(self, secrets: Iterable[str | Secret]) -> None:
        self.secrets = _secrets(secrets)
        self._pending = ""

    def feed(self, text: str) -> str:
        pending = redact_text(self._pending + text, self.secrets)
        keep = 0
        for secret in self.secrets:
            # The longest end of ``pending`` that a secret starts with (shorter than the whole secret).
            for size in range(min(len(secret.value) - 1, len(pending)), keep, -1):
                if secret.value.startswith(pending[-size:]):
                    keep = size
                    break
        self._pending = pending[len(pending) - keep :] if keep else ""
        return pending[: len(pending) - keep]

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest


# Text shaped like an OpenAI API key ("sk-", "sk-proj-", ...) in bytes from elsewhere: a saved request or
# reply (wire parse, wire diff, wire serve --record) whose key wire was never told.
KEY_SHAPE = re.compile(r"sk-[A-Za-z0-9_-]{16,}")


def key_shaped(text: str) -> list[str]:
    """Every distinct key-shaped string in ``text``, longest first (so a key is never left half redacted)."""
    return sorted(set(KEY_SHAPE.findall(text)), key=len, reverse=True)
