"""Settings: .env and environment, where each value came from, redaction, base_url parts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wire.config import DEFAULT_BASE_URL, Settings
from wire.errors import ConfigError
from wire.secrets import redact

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"


def write_env(path: Path, text: str) -> Path:
    env = path / ".env"
    env.write_text(text)
    return env


def test_env_file_is_read(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"OPENAI_API_KEY={KEY}\nOPENAI_MODEL=gpt-test\n")
    before = dict(os.environ)
    settings = Settings.load(env, environ={})
    assert settings.api_key == KEY
    assert settings.model == "gpt-test"
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.env_file == str(env)
    assert settings.sources == {"api_key": f".env at {env}", "model": f".env at {env}", "base_url": "default"}
    assert dict(os.environ) == before  # .env never leaks into the process environment


def test_environment_wins_over_env_file(tmp_path: Path) -> None:
    env = write_env(tmp_path, "OPENAI_API_KEY=sk-from-dotenv-000000000\nOPENAI_BASE_URL=http://file.example/v1\n")
    settings = Settings.load(env, environ={"OPENAI_API_KEY": KEY})
    assert settings.api_key == KEY
    assert settings.sources["api_key"] == "environment"
    assert settings.base_url == "http://file.example/v1"
    assert settings.sources["base_url"] == f".env at {env}"


def test_env_file_found_from_cwd_upward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write_env(tmp_path, f"OPENAI_API_KEY={KEY}\n")
    below = tmp_path / "a" / "b"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)
    settings = Settings.load(environ={})
    assert settings.api_key == KEY
    assert settings.env_file == str(env)


def test_stray_line_end_is_kept(tmp_path: Path) -> None:
    # The request writer rejects such a key with a clear message; config must not hide the fault.
    env = write_env(tmp_path, "")
    assert Settings.load(env, environ={"OPENAI_API_KEY": KEY + "\r"}).api_key == KEY + "\r"
    env.write_bytes(b'OPENAI_API_KEY="' + KEY.encode() + b'\r"\n')  # python-dotenv reads "\r" as "\n"
    key = Settings.load(env, environ={}).api_key
    assert key is not None and key[:-1] == KEY and key[-1] in "\r\n"


def test_missing_key_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.load(environ={})
    if settings.env_file is not None:  # a .env above tmp_path on this machine; skip the "no file" wording
        pytest.skip(f"found {settings.env_file} above the temporary directory")
    with pytest.raises(ConfigError) as info:
        settings.require_key()
    text = str(info.value)
    assert "OPENAI_API_KEY" in text
    assert f"no .env file found from {tmp_path} upward" in text
    assert "export OPENAI_API_KEY" in text


def test_missing_key_names_the_env_file(tmp_path: Path) -> None:
    env = write_env(tmp_path, "OPENAI_MODEL=gpt-test\n")
    with pytest.raises(ConfigError, match=str(env).replace("\\", "\\\\")):
        Settings.load(env, environ={}).require_key()


def test_explicit_env_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.load(tmp_path / "nope.env", environ={})


def test_require_key_returns_key() -> None:
    assert Settings(api_key=KEY).require_key() == KEY


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("sk-abcdefghijklmnop1234", "sk-…1234"),
        (KEY, "sk-…WXYZ"),
        ("xyzabcdefghijklmnop9876", "…9876"),
        ("sk-short", "***"),
        ("", "***"),
    ],
)
def test_redact(secret: str, shown: str) -> None:
    assert redact(secret) == shown


def test_repr_redacts_key() -> None:
    text = repr(Settings(api_key=KEY))
    assert KEY not in text and KEY[8:20] not in text
    assert "sk-…WXYZ" in text


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("https://api.openai.com/v1", ("https", "api.openai.com", 443, "/v1")),
        ("http://127.0.0.1:8080/v1/", ("http", "127.0.0.1", 8080, "/v1")),
        ("http://localhost", ("http", "localhost", 80, "")),
        ("HTTPS://[::1]:8443/openai/v1", ("https", "::1", 8443, "/openai/v1")),
    ],
)
def test_base_url_parts(url: str, parts: tuple[str, str, int, str]) -> None:
    s = Settings(base_url=url)
    assert (s.scheme, s.host, s.port, s.base_path) == parts


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "api.openai.com/v1", "https:///v1", "http://host:99999/"])
def test_bad_base_url(url: str) -> None:
    with pytest.raises(ConfigError):
        Settings(base_url=url).host  # noqa: B018


def test_a_base_url_that_is_no_url_is_a_config_error() -> None:
    """urllib's ValueError for an unclosed "[" becomes a ConfigError that says so (never a traceback)."""
    with pytest.raises(ConfigError) as info:
        Settings(base_url="http://[::1/v1").host  # noqa: B018
    assert str(info.value) == "base_url 'http://[::1/v1' is not a URL: Invalid IPv6 URL"
