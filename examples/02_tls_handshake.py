"""02 · The TLS handshake: DNS, TCP, then TLS, before a single HTTP byte.

What it teaches: ``https://`` means the HTTP bytes of lesson 01 travel inside a
TLS session. Before any of them, the client resolves the name (DNS), connects
(TCP) and does the handshake, in which it sends the server's name (SNI),
offers ``http/1.1`` (ALPN) and checks the certificate chain against trusted
CAs. ``wire.transport.Connection`` does each step and keeps what it settled
in ``TLSInfo``. We print that, the certificate itself, and what happens when
the certificate is not trusted.

    python examples/02_tls_handshake.py           # the fake server with wire's demo certificate
    python examples/02_tls_handshake.py --real    # api.openai.com:443 (no key needed: nothing is sent)
"""

# %% Where to connect
import hashlib
import ssl

from _common import REAL, section

from wire.errors import TLSError
from wire.fake import DEMO_CA_FILE, FakeServer
from wire.show import timings_view, tls_view
from wire.transport import Connection

server = None
if REAL:
    host, port, ca_file = "api.openai.com", 443, None  # certifi's public CAs vouch for it
else:
    server = FakeServer(tls=True).start()
    # The demo certificate is signed by wire's demo CA, which nobody trusts by default: add it as a trust root.
    host, port, ca_file = "localhost", server.port, DEMO_CA_FILE
print(f"connecting to {host} port {port}")

# %% DNS, TCP, TLS: Connection.open does all three
conn = Connection.open(host, port, tls=True, ca_file=ca_file, timeouts=10)
section("DNS: getaddrinfo")
# "localhost" often resolves to ::1 first; wire tries each address in order until one answers.
print("addresses:", ", ".join(f"{ip} port {p}" for ip, p in conn.addresses))
print("connected:", f"{conn.peer[0]} port {conn.peer[1]}, from {conn.local[0]} port {conn.local[1]}")

# %% What the handshake settled
tls = conn.tls
assert tls is not None
section("TLSInfo: what the handshake settled")
print(tls_view(tls))
# RFC 7301 (ALPN): the client offers protocols in the ClientHello, the server picks one. wire offers only
# http/1.1; a server that picks nothing leaves alpn None, and HTTP/1.1 is still the fallback.
print(f"\nALPN: we offered ['http/1.1'], the server chose {tls.alpn!r}")
# RFC 6066 §3 (SNI): the name goes out in clear text in the ClientHello, so one IP can host many certificates.
print(f"SNI: we sent {tls.server_hostname!r}; the certificate must name it (RFC 9525): {tls.peer_sans}")

# %% The certificate itself
assert isinstance(conn.sock, ssl.SSLSocket)
der = conn.sock.getpeercert(binary_form=True)  # the leaf certificate, as the server sent it (DER)
assert der is not None
section("the server's certificate")
print(f"{len(der)} bytes of DER, SHA-256 fingerprint {hashlib.sha256(der).hexdigest()[:32]}…")
pem = ssl.DER_cert_to_PEM_cert(der).splitlines()
print("\n".join(pem[:3] + ["…"] + pem[-2:]))

# %% How long each step took
conn.close()
section("timings: DNS, TCP connect, TLS handshake")
print(timings_view(conn.timings))

# %% Without the right trust root the handshake fails, and says why
section("the same handshake without trusting the certificate's CA")
if REAL:
    print("(skipped with --real: api.openai.com has a publicly trusted certificate)")
else:
    try:
        Connection.open(host, port, tls=True, timeouts=10)  # certifi's bundle only: the demo CA is not in it
    except TLSError as exc:
        print(f"TLSError: {exc}")

# %% Clean up
if server is not None:
    server.stop()
