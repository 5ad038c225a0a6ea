"""Make the demo TLS certificates that ship in ``wire/fake/certs/``.

What it makes (EC P-256 keys, SHA-256 signatures, valid 2026-01-01 to 2056-01-01):

    demo-ca.pem         a self-signed CA certificate, "wire demo CA"
    localhost.pem       the server certificate chain: the leaf, then the CA
    localhost-key.pem   the leaf's private key (unencrypted PKCS#8)

The leaf is for ``DNS:localhost``, ``IP:127.0.0.1`` and ``IP:::1``, with the
extensions OpenSSL's strict mode (Python 3.13's default) checks for: basic
constraints, key usage, extended key usage (serverAuth), subject and
authority key identifiers.

Why a published private key is fine here: nothing trusts this CA by default.
It is not in certifi's bundle or any operating system's store; the only
client that trusts it is one handed ``demo-ca.pem`` as its ``ca_file`` (wire's
demo connection to its own ``FakeServer``). Anyone can mint certificates with
the CA's key (which this script does not even keep), but they are worth
nothing to a client that was not told to trust this CA. Never add
``demo-ca.pem`` to a system trust store.

The CA's key is thrown away once the leaf is signed. This is a development
script, not runtime code: it needs the ``cryptography`` package, wire does
not. Run it from the repository root:

    python scripts/make_demo_certs.py [output-directory]
"""

from __future__ import annotations

import datetime
import ipaddress
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOT_BEFORE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2056, 1, 1, tzinfo=datetime.timezone.utc)
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "wire" / "fake" / "certs"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wire demo (private key is public, trust nowhere else)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("wire demo CA"))
        .issuer_name(_name("wire demo CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    out.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = make_ca()
    leaf_key, leaf_cert = make_leaf(ca_key, ca_cert)
    pem = serialization.Encoding.PEM
    (out / "demo-ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (out / "localhost.pem").write_bytes(leaf_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    (out / "localhost-key.pem").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    for name in ("demo-ca.pem", "localhost.pem", "localhost-key.pem"):
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
