"""CloudHSM key stores over PKCS#11, against SoftHSM2 tokens: the six custom key store operations
with AWS's connection states and errors, keys whose material is generated in the token and never
leaves it (read back by an independent PKCS#11 client, python-pkcs11), Unavailable keys while
disconnected, wrong passwords, and durability of the connection across a SIGKILL."""

import os
import subprocess

import pytest

import pkcs11_client
from conftest import SECRETS, Server, aws_cli, context_bytes, db_rows, error_code, wait_state

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "kmsuser-pin-1"
OTHER_PIN = "kmsuser-pin-2"


@pytest.fixture(scope="module")
def hsm(tmp_path_factory):
    """Two SoftHSM2 tokens in a configuration of their own, made before the server starts
    (SoftHSM2 sees tokens made by another process only when it initialises)."""
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    for label, pin in (("kms-a", PIN), ("kms-b", OTHER_PIN), ("kms-c", PIN)):
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "87654321", "--pin", pin],
                       check=True, capture_output=True)
    SECRETS.update({PIN.encode(), OTHER_PIN.encode()})
    return root


@pytest.fixture(scope="module")
def server(hsm, tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("cks") / "data").start()
    yield s
    s.stop()


def register(server, label, out):
    import json
    cluster = json.loads(server.admin("register-hsm-cluster", "--module", MODULE, "--token-label", label, "--trust-anchor-out", str(out)))
    return cluster["CloudHsmClusterId"], out.read_text()


@pytest.fixture(scope="module")
def clusters(server, hsm):
    return {label: register(server, label, hsm / f"{label}.pem") for label in ("kms-a", "kms-b", "kms-c")}


def test_cloudhsm_key_store_from_creation_to_use(server, hsm, clusters):
    kms = server.client()
    cluster_a, anchor_a = clusters["kms-a"]
    cluster_b, anchor_b = clusters["kms-b"]

    # Creation: AWS's errors for an unknown cluster, a wrong trust anchor, a missing password.
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-abcdefghijk",
                      TrustAnchorCertificate=anchor_a, KeyStorePassword=PIN) == "CloudHsmClusterNotFoundException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="hsm", CloudHsmClusterId=cluster_a,
                      TrustAnchorCertificate=anchor_b, KeyStorePassword=PIN) == "IncorrectTrustAnchorException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="hsm", CloudHsmClusterId=cluster_a,
                      TrustAnchorCertificate=anchor_a) == "ValidationException"
    created = aws_cli(server, "create-custom-key-store", "--custom-key-store-name", "hsm", "--cloud-hsm-cluster-id", cluster_a,
                      "--trust-anchor-certificate", f"file://{hsm / 'kms-a.pem'}", "--key-store-password", PIN)
    store_id = __import__("json").loads(created.stdout)["CustomKeyStoreId"]
    assert store_id.startswith("cks-") and len(store_id) == 21
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="hsm", CloudHsmClusterId=cluster_b,
                      TrustAnchorCertificate=anchor_b, KeyStorePassword=OTHER_PIN) == "CustomKeyStoreNameInUseException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="other", CloudHsmClusterId=cluster_a,
                      TrustAnchorCertificate=anchor_a, KeyStorePassword=PIN) == "CloudHsmClusterInUseException"
    entry = kms.describe_custom_key_stores(CustomKeyStoreName="hsm")["CustomKeyStores"][0]
    assert entry["CustomKeyStoreId"] == store_id and entry["ConnectionState"] == "DISCONNECTED"
    assert entry["CloudHsmClusterId"] == cluster_a and entry["CustomKeyStoreType"] == "AWS_CLOUDHSM"
    assert "KeyStorePassword" not in entry

    # Disconnected: no keys, no random bytes; Disconnect refused.
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, Origin="AWS_CLOUDHSM") == "CustomKeyStoreInvalidStateException"
    assert error_code(kms.generate_random, NumberOfBytes=16, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    assert error_code(kms.disconnect_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    assert error_code(kms.connect_custom_key_store, CustomKeyStoreId="cks-00000000000000000") == "CustomKeyStoreNotFoundException"

    aws_cli(server, "connect-custom-key-store", "--custom-key-store-id", store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)  # connected already: nothing to do
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id, KeyStorePassword=OTHER_PIN) \
        == "CustomKeyStoreInvalidStateException"
    assert error_code(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    assert len(kms.generate_random(NumberOfBytes=32, CustomKeyStoreId=store_id)["Plaintext"]) == 32

    # A key in the token: only symmetric encryption keys, never multi-Region.
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY") \
        == "UnsupportedOperationException"
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, MultiRegion=True) == "UnsupportedOperationException"
    assert error_code(kms.create_key, Origin="AWS_CLOUDHSM") == "ValidationException"
    out = aws_cli(server, "create-key", "--custom-key-store-id", store_id, "--origin", "AWS_CLOUDHSM", "--description", "in the HSM")
    metadata = __import__("json").loads(out.stdout)["KeyMetadata"]
    key_id = metadata["KeyId"]
    assert metadata["Origin"] == "AWS_CLOUDHSM" and metadata["CustomKeyStoreId"] == store_id
    assert metadata["CloudHsmClusterId"] == cluster_a and metadata["KeyState"] == "Enabled"
    assert "CurrentKeyMaterialId" not in metadata
    assert error_code(kms.enable_key_rotation, KeyId=key_id) == "UnsupportedOperationException"

    # Cryptography in the token, checked by an independent PKCS#11 client.
    context = {"purpose": "hsm-test", "tenant": "t1"}
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"sealed inside the token", EncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"sealed inside the token"
    assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"purpose": "other"}) == "InvalidCiphertextException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert error_code(kms.decrypt, CiphertextBlob=tampered, EncryptionContext=context) == "InvalidCiphertextException"
    env = dict(os.environ, SOFTHSM2_CONF=str(hsm / "softhsm2.conf"))
    flags = pkcs11_client.run(env, MODULE, "kms-a", PIN, key_id, "inspect")
    assert flags == {"sensitive": True, "extractable": False, "neverExtractable": True, "valueLen": 32, "signOrVerify": False,
                     "valueRefused": True}
    header, iv = blob[:62], blob[50:62]
    opened = pkcs11_client.run(env, MODULE, "kms-a", PIN, key_id, "decrypt", iv.hex(), (header + context_bytes(context)).hex(),
                               blob[62:].hex())
    assert bytes.fromhex(opened["plaintext"]) == b"sealed inside the token"
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    assert len(data_key["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=context)["Plaintext"] == data_key["Plaintext"]
    plain_key = kms.create_key()["KeyMetadata"]["KeyId"]
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context, DestinationKeyId=plain_key)["CiphertextBlob"]
    back = kms.re_encrypt(CiphertextBlob=moved, DestinationKeyId=key_id, DestinationEncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=back, EncryptionContext=context)["Plaintext"] == b"sealed inside the token"

    # Disconnected: the key is Unavailable and refuses cryptography; it comes back on reconnect.
    aws_cli(server, "disconnect-custom-key-store", "--custom-key-store-id", store_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    assert error_code(kms.encrypt, KeyId=key_id, Plaintext=b"not now please") == "KMSInvalidStateException"
    assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext=context) == "KMSInvalidStateException"
    assert error_code(kms.disable_key, KeyId=key_id) == "KMSInvalidStateException"
    assert error_code(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreHasCMKsException"

    # A wrong password fails the connection (FAILED, INVALID_CREDENTIALS); Connect is then
    # refused until the store is disconnected; the right one connects again.
    kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword="not-the-pin-9")
    SECRETS.add(b"not-the-pin-9")
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    failed = wait_state(kms, store_id, "CONNECTED", "FAILED")
    assert (failed["ConnectionState"], failed["ConnectionErrorCode"]) == ("FAILED", "INVALID_CREDENTIALS")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    assert error_code(kms.connect_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=PIN, NewCustomKeyStoreName="hsm-renamed")
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id, CloudHsmClusterId=cluster_b) \
        == "CloudHsmClusterNotRelatedException"
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id, CloudHsmClusterId="cluster-abcdefghijk") \
        == "CloudHsmClusterNotFoundException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"sealed inside the token"
    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="hsm")  # a rename while connected

    # Acknowledged is durable: after SIGKILL the store is still CONNECTED and the new process
    # opens its own sessions to the token on first use.
    server.kill()
    server.start()
    kms = server.client()
    assert kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"sealed inside the token"

    # The password is nowhere in the database, in the clear.
    rows = db_rows(server.data_dir, "SELECT sealed_password FROM custom_key_store")
    assert rows and all(PIN.encode() not in bytes(r[0]) for r in rows)


def test_an_empty_store_is_deleted_and_pages_are_described(server, clusters):
    kms = server.client()
    cluster_b, anchor_b = clusters["kms-b"]
    store_id = kms.create_custom_key_store(CustomKeyStoreName="empty", CloudHsmClusterId=cluster_b, TrustAnchorCertificate=anchor_b,
                                           KeyStorePassword=OTHER_PIN)["CustomKeyStoreId"]
    first = kms.describe_custom_key_stores(Limit=1)
    assert len(first["CustomKeyStores"]) == 1 and first["Truncated"]
    rest = kms.describe_custom_key_stores(Limit=10, Marker=first["NextMarker"])
    assert not rest["Truncated"]
    assert store_id in [s["CustomKeyStoreId"] for s in first["CustomKeyStores"] + rest["CustomKeyStores"]]
    assert error_code(kms.describe_custom_key_stores, Marker="bm90LWEtc3RvcmU=") == "InvalidMarkerException"
    # Another store's name is taken, for a rename as for a creation.
    other_name = next(s["CustomKeyStoreName"] for s in first["CustomKeyStores"] + rest["CustomKeyStores"] if s["CustomKeyStoreId"] != store_id)
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id, NewCustomKeyStoreName=other_name) == \
        "CustomKeyStoreNameInUseException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"
    assert error_code(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    aws_cli(server, "delete-custom-key-store", "--custom-key-store-id", store_id)
    assert error_code(kms.describe_custom_key_stores, CustomKeyStoreId=store_id) == "CustomKeyStoreNotFoundException"


def test_a_token_that_goes_away_fails_its_store_not_the_server(server, hsm, clusters):
    kms = server.client()
    cluster_c, anchor_c = clusters["kms-c"]
    store_id = kms.create_custom_key_store(CustomKeyStoreName="vanishing", CloudHsmClusterId=cluster_c, TrustAnchorCertificate=anchor_c,
                                           KeyStorePassword=PIN)["CustomKeyStoreId"]
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"
    key_id = kms.create_key(CustomKeyStoreId=store_id)["KeyMetadata"]["KeyId"]
    assert kms.encrypt(KeyId=key_id, Plaintext=b"before it vanished")["KeyId"].endswith(key_id)
    subprocess.run(["softhsm2-util", "--delete-token", "--token", "kms-c"], check=True, capture_output=True,
                   env=dict(os.environ, SOFTHSM2_CONF=str(hsm / "softhsm2.conf")))
    assert error_code(kms.encrypt, KeyId=key_id, Plaintext=b"after it vanished") == "KMSInvalidStateException"
    failed = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
    assert (failed["ConnectionState"], failed["ConnectionErrorCode"]) == ("FAILED", "NETWORK_ERRORS")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    # Reconnecting finds no token: CLUSTER_NOT_FOUND. The server serves on.
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    again = wait_state(kms, store_id, "CONNECTED", "FAILED")
    assert (again["ConnectionState"], again["ConnectionErrorCode"]) == ("FAILED", "CLUSTER_NOT_FOUND")
    assert kms.generate_random(NumberOfBytes=8)["Plaintext"]


def test_members_of_the_other_kind_of_store_are_refused(server, clusters):
    """External key stores are tested in test_external_key_stores.py; here, the members that
    belong to the other kind, and a proxy that cannot be reached."""
    kms = server.client()
    xks = dict(XksProxyUriEndpoint="https://xks.example.com", XksProxyUriPath="/kms/xks/v1", XksProxyConnectivity="PUBLIC_ENDPOINT",
               XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST", "RawSecretAccessKey": "a" * 43})
    cluster, anchor = clusters["kms-c"]
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="mixed", CustomKeyStoreType="EXTERNAL_KEY_STORE",
                      CloudHsmClusterId=cluster, **xks) == "ValidationException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="mixed", CloudHsmClusterId=cluster,
                      TrustAnchorCertificate=anchor, KeyStorePassword=PIN, **xks) == "ValidationException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="xks", CustomKeyStoreType="EXTERNAL_KEY_STORE",
                      **xks) == "XksProxyUriUnreachableException"


def test_the_quota_of_custom_key_stores(hsm, tmp_path):
    """`--custom-key-stores-per-region` (AWS's quota: 10): one store more is LimitExceededException,
    whatever it would have been; another region has its own count."""
    limited = Server(tmp_path / "data", args=["--custom-key-stores-per-region", "1"]).start()
    try:
        cluster, anchor = register(limited, "kms-b", tmp_path / "kms-b.pem")
        kms = limited.client()
        kms.create_custom_key_store(CustomKeyStoreName="only", CloudHsmClusterId=cluster, TrustAnchorCertificate=anchor,
                                    KeyStorePassword=OTHER_PIN)
        assert error_code(kms.create_custom_key_store, CustomKeyStoreName="second", CloudHsmClusterId="cluster-abcdefghijk",
                          TrustAnchorCertificate=anchor, KeyStorePassword=OTHER_PIN) == "LimitExceededException"
        assert error_code(kms.create_custom_key_store, CustomKeyStoreName="second", CustomKeyStoreType="EXTERNAL_KEY_STORE",
                          XksProxyUriEndpoint="https://127.0.0.2", XksProxyUriPath="/kms/xks/v1", XksProxyConnectivity="PUBLIC_ENDPOINT",
                          XksProxyAuthenticationCredential={"AccessKeyId": "ABCDEFGHIJKLMNOPQRST", "RawSecretAccessKey": "a" * 43}) \
            == "LimitExceededException"
        west = limited.client(region="us-west-2")
        cluster_a, anchor_a = register(limited, "kms-a", tmp_path / "kms-a.pem")
        assert west.create_custom_key_store(CustomKeyStoreName="only", CloudHsmClusterId=cluster_a, TrustAnchorCertificate=anchor_a,
                                            KeyStorePassword=PIN)["CustomKeyStoreId"].startswith("cks-")
    finally:
        limited.stop()
