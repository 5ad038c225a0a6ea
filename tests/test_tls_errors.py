"""TLS failures through wire.Client(...).chat(), as a user meets them (issue 4, item 7).

tests/test_transport.py checks each failure at the Connection level; here the
same failures come through the client against a FakeServer, so the error
reaches the user the same way: a TLSError that says what failed and how to
fix it, with the partial exchange on ``exc.exchange``. ``ca_file`` adds trust;
no option turns verification off.
"""

from __future__ import annotations

import datetime
import inspect
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

import wire
from wire.client import Client
from wire.fake import FakeServer

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def leaf_files(cert: trustme.LeafCert, where: Path) -> tuple[str, str]:
    chain, key = where / "chain.pem", where / "key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    return str(chain), str(key)


def tls_error(base_url: str, ca_file: str | None) -> wire.TLSError:
    client = Client(base_url=base_url, api_key=KEY, ca_file=ca_file, timeout=5, max_retries=0)
    with pytest.raises(wire.TLSError) as info:
        client.chat("Hi")
    err = info.value
    assert err.phase == "tls"
    assert err.exchange is not None and err.exchange.response is None
    assert err.exchange.request_bytes.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert KEY not in str(err)
    return err


@pytest.fixture
def server_for(ca: trustme.CA, tmp_path: Path) -> Iterator[object]:
    servers: list[FakeServer] = []

    def start(cert: trustme.LeafCert) -> FakeServer:
        chain, key = leaf_files(cert, tmp_path)
        server = FakeServer(certfile=chain, keyfile=key).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_unknown_ca(ca: trustme.CA, server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for(ca.issue_cert("localhost"))
    err = tls_error(server.base_url, None)
    assert "not signed by a CA wire trusts" in str(err) and "ca_file" in str(err)


def test_wrong_hostname(ca: trustme.CA, ca_file: str, server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for(ca.issue_cert("other.example"))
    err = tls_error(server.base_url, ca_file)
    assert "not valid for the name 'localhost'" in str(err) and "server_hostname" in str(err)


def test_expired_certificate(ca: trustme.CA, ca_file: str, server_for) -> None:  # type: ignore[no-untyped-def]
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    server = server_for(ca.issue_cert("localhost", not_before=past - datetime.timedelta(days=30), not_after=past))
    err = tls_error(server.base_url, ca_file)
    assert "expired" in str(err)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_server_limited_to_tls_1_1(ca: trustme.CA, ca_file: str, server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for(ca.issue_cert("localhost"))
    context = server._server.context  # the FakeServer's own context: allow only TLS 1.0 and 1.1
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    err = tls_error(server.base_url, ca_file)
    assert str(err).startswith("tls: ")  # wire never connects below TLS 1.2, whatever the server offers


def test_tls_spoken_to_a_plain_http_port() -> None:
    with FakeServer() as plain:
        err = tls_error(plain.base_url.replace("http://127.0.0.1", "https://127.0.0.1"), None)
    assert "http://" in str(err)


def test_plain_http_spoken_to_a_tls_port_fails_before_any_reply() -> None:
    with FakeServer(tls=True) as server:
        client = Client(base_url=server.base_url.replace("https://", "http://"), api_key=KEY, timeout=5, max_retries=0)
        with pytest.raises(wire.IncompleteMessage) as info:
            client.chat("Hi")
    # The server's handshake fails on "POST ...", and it closes without a byte: the error says what to try.
    assert info.value.offset == 0 and info.value.partial == b""
    assert "use https://" in str(info.value)
    assert info.value.exchange is not None and info.value.exchange.response is None


def test_plain_http_answered_with_a_tls_alert_is_a_tls_error() -> None:
    from rawserver import RawServer

    alert = b"\x15\x03\x01\x00\x02\x02\x46"  # a TLS fatal alert record: protocol_version
    with RawServer(alert) as server:
        client = Client(base_url=server.base_url, api_key=KEY, timeout=5, max_retries=0)
        with pytest.raises(wire.TLSError) as info:
            client.chat("Hi")
    assert "TLS record" in str(info.value) and "use https://" in str(info.value)
    assert info.value.received == alert and info.value.exchange is not None


def test_ca_file_adds_trust_and_nothing_turns_checking_off(ca: trustme.CA, ca_file: str, server_for) -> None:  # type: ignore[no-untyped-def]
    server = server_for(ca.issue_cert("localhost"))
    exchange = Client(base_url=server.base_url, api_key=KEY, ca_file=ca_file, timeout=5, max_retries=0).chat("Hi")
    assert exchange.tls is not None and exchange.tls.verified is True and exchange.tls.extra_ca_file == ca_file
    options = set(inspect.signature(Client).parameters)
    assert not {"verify", "insecure", "check_hostname", "verify_ssl", "cert_reqs"} & options
