"""`swiftkms xks-proxy` against every clause of AWS's XKS Proxy API specification (v1.0.3) we can
drive from outside: driven by an independent client (http.client + ssl, SigV4 by botocore), its
AES-GCM checked against the token with python-pkcs11, its CDIV with hashlib, its audit chain
re-hashed here."""

import datetime
import hashlib
import http.client
import json
import os
import struct
import subprocess
import time

import pytest

import pkcs11_client
from conftest import BINARY
from xks_support import MODULE, PIN, STARTED, TOKEN, Proxy, b64, credential, softhsm, tls_files, unb64

PATH = "/tenant-1/kms/xks/v1"
META = {"awsPrincipalArn": "arn:aws:iam::111122223333:user/Alice", "kmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k",
        "kmsOperation": "Encrypt", "kmsRequestId": "4112f4d6-db54-4af4-ae30-c55a22a8dfae"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("xks-proxy")
    env = softhsm(root)
    tls = tls_files(root / "tls")
    old, new, other = credential(), credential(), credential()
    proxy = Proxy(root, env, tls, [
        {"uriPath": PATH, "credentials": [{"accessKeyId": old[0], "secretAccessKey": old[1]},
                                          {"accessKeyId": new[0], "secretAccessKey": new[1]}]},
        {"uriPath": "/throttled/kms/xks/v1", "credentials": [{"accessKeyId": other[0], "secretAccessKey": other[1]}],
         "requestsPerSecond": 1},
    ], keys={"disabled-key": {"status": "DISABLED"},
             "alice-only": {"allowedPrincipals": ["arn:aws:iam::111122223333:user/Alice"]}})
    for key in ("key-1", "disabled-key", "alice-only"):
        proxy.create_key(key)
    proxy.create_key("decrypt-only", usage="DECRYPT")
    proxy.start()
    yield proxy, old, new, other
    proxy.stop()


def call(proxy, cred, path, body, **kw):
    return proxy.call(path, body, cred[0], cred[1], **kw)


def encrypt_body(plaintext, aad=None, cdiv=True, **extra):
    body = {"requestMetadata": META, "plaintext": b64(plaintext), "encryptionAlgorithm": "AES_GCM"}
    if aad is not None:
        body["additionalAuthenticatedData"] = b64(aad)
    if cdiv:
        body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256"
    body.update(extra)
    return body


def decrypt_body(sealed, aad=None, **extra):
    body = {"requestMetadata": dict(META, kmsOperation="Decrypt"), "ciphertext": sealed["ciphertext"],
            "initializationVector": sealed["initializationVector"], "authenticationTag": sealed["authenticationTag"],
            "encryptionAlgorithm": "AES_GCM"}
    if aad is not None:
        body["additionalAuthenticatedData"] = b64(aad)
    body.update(extra)
    return body


def test_health_metadata_and_the_round_trip_checked_independently(setup):
    proxy, old, new, _ = setup
    status, health, _ = call(proxy, old, f"{PATH}/health", {"requestMetadata": {"kmsRequestId": "h-1", "kmsOperation": "KmsHealthCheck"}})
    assert status == 200
    assert health["xksProxyFleetSize"] >= 1 and health["xksProxyVendor"] and health["xksProxyModel"] and health["ekmVendor"]
    assert 1 <= len(health["ekmFleetDetails"]) <= 10
    assert health["ekmFleetDetails"][0]["healthStatus"] == "ACTIVE"

    status, meta, headers = call(proxy, new, f"{PATH}/keys/key-1/metadata",
                                 {"requestMetadata": {"awsPrincipalArn": META["awsPrincipalArn"], "kmsOperation": "CreateKey",
                                                      "kmsRequestId": "m-1"}})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert meta == {"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"}

    plaintext, aad = os.urandom(4300), os.urandom(8192)
    status, sealed, _ = call(proxy, old, f"{PATH}/keys/key-1/encrypt", encrypt_body(plaintext, aad))
    assert status == 200
    iv, ct, tag = unb64(sealed["initializationVector"]), unb64(sealed["ciphertext"]), unb64(sealed["authenticationTag"])
    assert len(iv) in (12, 16) and len(tag) == 16 and len(ct) == len(plaintext)
    assert "ciphertextMetadata" not in sealed
    # Appendix C: SHA-256 over AAD || metadata || IV || ciphertext || tag.
    assert unb64(sealed["ciphertextDataIntegrityValue"]) == hashlib.sha256(aad + iv + ct + tag).digest()
    # The token's AAD is 2-byte len(AAD) || AAD || 1-byte len(metadata) || metadata: python-pkcs11 opens it so.
    token_aad = struct.pack(">H", len(aad)) + aad + b"\x00"
    opened = pkcs11_client.run(proxy.env, MODULE, TOKEN, PIN, "key-1", "decrypt", iv.hex(), token_aad.hex(), (ct + tag).hex())
    assert bytes.fromhex(opened["plaintext"]) == plaintext
    # The key never leaves the token.
    flags = pkcs11_client.run(proxy.env, MODULE, TOKEN, PIN, "key-1", "inspect")
    assert flags["sensitive"] and not flags["extractable"] and flags["valueRefused"]

    status, out, _ = call(proxy, new, f"{PATH}/keys/key-1/decrypt", decrypt_body(sealed, aad))
    assert status == 200 and unb64(out["plaintext"]) == plaintext
    # No CDIV asked, none given; no AAD.
    status, sealed2, _ = call(proxy, old, f"{PATH}/keys/key-1/encrypt", encrypt_body(b"Hello World!", cdiv=False))
    assert status == 200 and "ciphertextDataIntegrityValue" not in sealed2
    status, out, _ = call(proxy, old, f"{PATH}/keys/key-1/decrypt", decrypt_body(sealed2))
    assert status == 200 and unb64(out["plaintext"]) == b"Hello World!"


def expect(result, status, name):
    got_status, body, _ = result
    assert (got_status, (body or {}).get("errorName")) == (status, name), (got_status, body)
    message = body.get("errorMessage")
    if message is not None:
        assert len(message) < 512 and all(0x20 <= ord(c) <= 0x7e for c in message)


def test_ciphertext_errors(setup):
    proxy, old, _, _ = setup
    aad = b"project=nile,department=marketing"
    _, sealed, _ = call(proxy, old, f"{PATH}/keys/key-1/encrypt", encrypt_body(b"secret data", aad))
    decrypt = f"{PATH}/keys/key-1/decrypt"
    expect(call(proxy, old, decrypt, decrypt_body(sealed, b"project=amazon")), 400, "InvalidCiphertextException")
    expect(call(proxy, old, decrypt, decrypt_body(sealed)), 400, "InvalidCiphertextException")
    bad_tag = dict(sealed, authenticationTag=b64(bytes(16)))
    expect(call(proxy, old, decrypt, decrypt_body(bad_tag, aad)), 400, "InvalidCiphertextException")
    short_iv = dict(sealed, initializationVector=b64(bytes(8)))
    expect(call(proxy, old, decrypt, decrypt_body(short_iv, aad)), 400, "InvalidCiphertextException")
    short_tag = dict(sealed, authenticationTag=b64(bytes(12)))
    expect(call(proxy, old, decrypt, decrypt_body(short_tag, aad)), 400, "InvalidCiphertextException")
    # Metadata is bound: the AAD moved into it (the specification's example) does not decrypt.
    expect(call(proxy, old, decrypt, decrypt_body(sealed, b"", ciphertextMetadata=b64(b"x"))), 400, "InvalidCiphertextException")
    expect(call(proxy, old, decrypt, decrypt_body(sealed, aad, ciphertextMetadata=b64(bytes(21)))), 400, "ValidationException")
    # Another key's ciphertext.
    _, other, _ = call(proxy, old, f"{PATH}/keys/alice-only/encrypt", encrypt_body(b"secret data", aad))
    expect(call(proxy, old, decrypt, decrypt_body(other, aad)), 400, "InvalidCiphertextException")


def test_validation_and_size_limits(setup):
    proxy, old, _, _ = setup
    enc = f"{PATH}/keys/key-1/encrypt"
    expect(call(proxy, old, enc, None, raw=b"{not json"), 400, "ValidationException")
    expect(call(proxy, old, enc, {"plaintext": b64(b"x"), "encryptionAlgorithm": "AES_GCM"}), 400, "ValidationException")
    no_arn = dict(META)
    del no_arn["kmsKeyArn"]
    expect(call(proxy, old, enc, dict(encrypt_body(b"x"), requestMetadata=no_arn)), 400, "ValidationException")
    no_principal = dict(META)
    del no_principal["awsPrincipalArn"]
    expect(call(proxy, old, enc, dict(encrypt_body(b"x"), requestMetadata=no_principal)), 400, "ValidationException")
    expect(call(proxy, old, enc, encrypt_body(b"x", encryptionAlgorithm="AES_CBC")), 400, "ValidationException")
    expect(call(proxy, old, enc, encrypt_body(b"x", ciphertextDataIntegrityValueAlgorithm="MD5")), 400, "ValidationException")
    expect(call(proxy, old, enc, dict(encrypt_body(b"x"), plaintext="%%%")), 400, "ValidationException")
    expect(call(proxy, old, enc, {"requestMetadata": META, "encryptionAlgorithm": "AES_GCM"}), 400, "ValidationException")
    # Unknown kmsOperation values, opaque request IDs and 2048-character ARNs are accepted.
    long_meta = dict(META, kmsOperation="BulkEncrypt", kmsRequestId="not-a-uuid",
                     awsPrincipalArn="arn:aws:iam::111122223333:role/" + "r" * 2010)
    status, _, _ = call(proxy, old, enc, dict(encrypt_body(b"x"), requestMetadata=long_meta))
    assert status == 200
    # Beyond what this proxy supports: UnsupportedOperationException.
    expect(call(proxy, old, enc, encrypt_body(os.urandom(8193))), 501, "UnsupportedOperationException")
    expect(call(proxy, old, enc, None, raw=b"{" + b" " * 70000 + b"}"), 501, "UnsupportedOperationException")
    expect(call(proxy, old, f"{PATH}/keys/bad$id/encrypt", encrypt_body(b"x")), 400, "ValidationException")
    expect(call(proxy, old, f"{PATH}/keys/{'k' * 129}/encrypt", encrypt_body(b"x")), 400, "ValidationException")


def test_keys_state_usage_and_authorization(setup):
    proxy, old, _, _ = setup
    meta_body = {"requestMetadata": {"awsPrincipalArn": META["awsPrincipalArn"], "kmsOperation": "CreateKey", "kmsRequestId": "1"}}
    expect(call(proxy, old, f"{PATH}/keys/no-such-key/metadata", meta_body), 404, "KeyNotFoundException")
    expect(call(proxy, old, f"{PATH}/keys/no-such-key/encrypt", encrypt_body(b"x")), 404, "KeyNotFoundException")
    status, meta, _ = call(proxy, old, f"{PATH}/keys/disabled-key/metadata", meta_body)
    assert status == 200 and meta["keyStatus"] == "DISABLED"
    expect(call(proxy, old, f"{PATH}/keys/disabled-key/encrypt", encrypt_body(b"x")), 400, "InvalidStateException")
    status, meta, _ = call(proxy, old, f"{PATH}/keys/decrypt-only/metadata", meta_body)
    assert status == 200 and meta["keyUsage"] == ["DECRYPT"]
    expect(call(proxy, old, f"{PATH}/keys/decrypt-only/encrypt", encrypt_body(b"x")), 400, "InvalidKeyUsageException")
    # Secondary authorization on the request metadata.
    status, _, _ = call(proxy, old, f"{PATH}/keys/alice-only/encrypt", encrypt_body(b"x"))
    assert status == 200
    bob = dict(encrypt_body(b"x"), requestMetadata=dict(META, awsPrincipalArn="arn:aws:iam::111122223333:user/Bob"))
    expect(call(proxy, old, f"{PATH}/keys/alice-only/encrypt", bob), 403, "AccessDeniedException")
    assert "AccessDeniedException" in (proxy.folder / "proxy.log").read_text()


def test_uri_paths_methods_and_authentication(setup):
    proxy, old, new, other = setup
    health = {"requestMetadata": {"kmsRequestId": "1", "kmsOperation": "KmsHealthCheck"}}
    for suffix in ("health", "keys/key-1/metadata", "keys/key-1/encrypt", "keys/key-1/decrypt"):
        status, _, headers = proxy.call(f"{PATH}/{suffix}", health, old[0], old[1], method="GET")
        assert status == 405 and headers.get("Allow") == "POST"
    for path in ("/kms/xks/v1/health", "/tenant-2/kms/xks/v1/health", f"{PATH}/healthz", f"{PATH}/keys/key-1/sign", "/"):
        expect(call(proxy, old, path, health), 404, "InvalidUriPathException")
    expect(proxy.call(f"{PATH}/health", health), 401, "AuthenticationFailedException")
    expect(proxy.call(f"{PATH}/health", health, old[0], new[1]), 401, "AuthenticationFailedException")
    expect(proxy.call(f"{PATH}/health", health, other[0], other[1]), 401, "AuthenticationFailedException")
    expect(proxy.call(f"{PATH}/health", health, old[0], old[1], service="kms"), 401, "AuthenticationFailedException")
    stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=6)
    expect(proxy.call(f"{PATH}/health", health, old[0], old[1], date=stale), 401, "AuthenticationFailedException")
    recent = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=4)
    assert proxy.call(f"{PATH}/health", health, old[0], old[1], date=recent)[0] == 200
    # Any region signs (it is KMS's).
    assert proxy.call(f"{PATH}/health", health, new[0], new[1], region="eu-west-1")[0] == 200
    # A load balancer's health check.
    assert proxy.get("/ping")[0] == 200


def test_throttling_per_uri_path(setup):
    proxy, _, _, other = setup
    health = {"requestMetadata": {"kmsRequestId": "1", "kmsOperation": "KmsHealthCheck"}}
    statuses = [call(proxy, other, "/throttled/kms/xks/v1/health", health) for _ in range(6)]
    assert statuses[0][0] == 200
    assert any(s == 429 and b["errorName"] == "ThrottlingException" for s, b, _ in statuses)


def test_credential_rotation_by_sighup_and_the_audit_log(setup):
    proxy, old, new, _ = setup
    health = {"requestMetadata": {"kmsRequestId": "rotation-check", "kmsOperation": "KmsHealthCheck"}}
    config = json.loads(proxy.config_path.read_text())
    config["uriPaths"][0]["credentials"] = [{"accessKeyId": new[0], "secretAccessKey": new[1]}]
    proxy.reload(config)
    expect(call(proxy, old, f"{PATH}/health", health), 401, "AuthenticationFailedException")
    assert call(proxy, new, f"{PATH}/health", health)[0] == 200

    lines = proxy.audit_log.read_bytes().splitlines()
    previous = "0" * 64
    for number, line in enumerate(lines, 1):
        record = json.loads(line)
        assert record["sequence"] == number and record["previousHash"] == previous
        previous = hashlib.sha256(line).hexdigest()
    records = [json.loads(line) for line in lines]
    assert any(r.get("kmsRequestId") == "rotation-check" and r["httpStatus"] == 200 for r in records)
    assert any(r.get("errorName") == "AccessDeniedException" for r in records)
    text = proxy.audit_log.read_text()
    assert b64(b"secret data") not in text and b64(b"Hello World!") not in text and new[1] not in text and old[1] not in text
    assert "intact" in proxy.command("verify-audit-log", str(proxy.audit_log)).stdout
    copy = proxy.folder / "tampered.log"
    copy.write_bytes(b"\n".join(lines[:2] + [lines[2].replace(b'"httpStatus":', b'"httpStatus":1')] + lines[3:]) + b"\n")
    out = proxy.command("verify-audit-log", str(copy), check=False)
    # Record 3 changed: record 4 no longer names its hash.
    assert out.returncode == 1 and "record 4" in out.stdout


def test_mutual_tls(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def ca(name):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
        return key, cert

    def client(ca_key, ca_cert, cn, name):
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return str(cert_path), str(key_path)

    env = softhsm(tmp_path)
    tls = tls_files(tmp_path / "tls")
    kms_ca_key, kms_ca = ca("KMS client CA")
    (tmp_path / "client-ca.pem").write_bytes(kms_ca.public_bytes(serialization.Encoding.PEM))
    cred = credential()
    subject = "cks.kms.us-east-1.amazonaws.com"
    proxy = Proxy(tmp_path, env, tls, [{"uriPath": "/kms/xks/v1", "credentials": [{"accessKeyId": cred[0], "secretAccessKey": cred[1]}]}],
                  client_ca=tmp_path / "client-ca.pem", client_subject=subject)
    good = client(kms_ca_key, kms_ca, subject, "good")
    wrong_name = client(kms_ca_key, kms_ca, "cks.kms.eu-west-1.amazonaws.com", "wrong-name")
    stranger_key, stranger_ca = ca("Another CA")
    wrong_ca = client(stranger_key, stranger_ca, subject, "wrong-ca")
    health = {"requestMetadata": {"kmsRequestId": "1", "kmsOperation": "KmsHealthCheck"}}
    # Started by hand: /ping needs a client certificate too.
    proxy.process = subprocess.Popen([BINARY, "xks-proxy", "run", "--config", str(proxy.config_path)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(proxy.process)
    try:
        deadline = time.time() + 30
        while True:
            try:
                status, body, _ = proxy.call("/kms/xks/v1/health", health, cred[0], cred[1], client_cert=good)
                break
            except ConnectionRefusedError:
                assert time.time() < deadline
                time.sleep(0.1)
        assert status == 200 and body["ekmFleetDetails"][0]["healthStatus"] == "ACTIVE"
        for bad in (None, wrong_ca, wrong_name):
            with pytest.raises((OSError, http.client.HTTPException)):
                proxy.call("/kms/xks/v1/health", health, cred[0], cred[1], client_cert=bad)
    finally:
        proxy.stop()


def test_refuses_to_start_on_an_exposed_configuration_or_a_wrong_pin(tmp_path):
    env = softhsm(tmp_path)
    tls = tls_files(tmp_path / "tls")
    cred = credential()
    proxy = Proxy(tmp_path, env, tls, [{"uriPath": "/kms/xks/v1", "credentials": [{"accessKeyId": cred[0], "secretAccessKey": cred[1]}]}])
    os.chmod(proxy.config_path, 0o644)
    out = proxy.command("run", "--config", str(proxy.config_path), check=False)
    assert out.returncode != 0 and "chmod 600" in out.stderr
    os.chmod(proxy.config_path, 0o600)
    proxy.env = dict(env, SWIFTKMS_XKS_PKCS11_PIN="not-the-pin")
    out = proxy.command("run", "--config", str(proxy.config_path), check=False)
    assert out.returncode != 0 and "CKR_PIN_INCORRECT" in out.stderr
    bad = json.loads(proxy.config_path.read_text())
    bad["uriPaths"][0]["credentials"][0]["accessKeyId"] = "lowercase-not-allowed-here"
    proxy.config_path.write_text(json.dumps(bad))
    out = proxy.command("run", "--config", str(proxy.config_path), check=False)
    assert out.returncode != 0 and "accessKeyId" in out.stderr
