"""External key stores end to end: SwiftKMS → `swiftkms xks-proxy` (HTTPS, SigV4) → SoftHSM2,
driven with boto3 and the AWS CLI. The proxy listens on localhost:443, since XksProxyUriEndpoint
takes no port (AWS's pattern): these tests need root. Double encryption is checked from outside:
python-pkcs11 opens the external key's layer of a blob with the AAD the format documents."""

import base64
import contextlib
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

import pkcs11_client
from conftest import SECRETS, STORE, Server, context_bytes, error_code, wait_state
from xks_support import MODULE, PIN, TOKEN, Proxy, credential, softhsm, tls_files

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the XKS proxy must listen on port 443 (XksProxyUriEndpoint has no port)")

PATH = "/acme/kms/xks/v1"
OTHER_PATH = "/acme2/kms/xks/v1"
ENDPOINT = "https://localhost"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("xks-e2e")
    env = softhsm(root)
    tls = tls_files(root / "tls", "127.0.0.3")
    creds = [credential(), credential()]
    SECRETS.update(c[1].encode() for c in creds)
    proxy = Proxy(root, env, tls, [{"uriPath": path, "credentials": [{"accessKeyId": a, "secretAccessKey": s} for a, s in creds]}
                                   for path in (PATH, OTHER_PATH)])
    proxy.port = 443
    proxy.config["listen"] = "127.0.0.1:443"
    proxy.write_config()
    for key in ("ext-1", "ext-2", "ext-disabled", "ext-replaced"):
        proxy.create_key(key)
    proxy.create_key("ext-decrypt-only", usage="DECRYPT")
    proxy.config["keys"] = {"ext-disabled": {"status": "DISABLED"}}
    proxy.write_config()
    proxy.start()
    server = Server(root / "data", args=["--xks-proxy-ca-bundle", str(tls[2])]).start()
    yield proxy, server, creds
    server.stop()
    proxy.stop()


def create_store(kms, name, cred, path=PATH, endpoint=ENDPOINT, connectivity="PUBLIC_ENDPOINT"):
    return kms.create_custom_key_store(
        CustomKeyStoreName=name, CustomKeyStoreType="EXTERNAL_KEY_STORE", XksProxyUriEndpoint=endpoint, XksProxyUriPath=path,
        XksProxyConnectivity=connectivity, XksProxyAuthenticationCredential={"AccessKeyId": cred[0], "RawSecretAccessKey": cred[1]},
    )["CustomKeyStoreId"]


def message(call, **kwargs):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


@contextlib.contextmanager
def silent_proxy(tls, answer=None):
    """A TLS server on 127.0.0.3:443 that reads requests and never answers them, or answers
    each with the bytes `answer`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls[0]), str(tls[1]))
    listener = socket.create_server(("127.0.0.3", 443))
    held = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                conn.settimeout(5)
                held.append(context.wrap_socket(conn, server_side=True))
                if answer is not None:
                    held[-1].recv(65536)
                    held[-1].sendall(answer)
            except OSError:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in held:
            conn.close()


NOT_A_HEALTH_STATUS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"status\": \"ok\"}"


def test_creation_checks_the_proxy(setup):
    proxy, server, creds = setup
    kms = server.client()
    wrong = (creds[0][0], creds[1][1])
    assert error_code(create_store, kms, "wrong-secret", wrong) == "XksProxyIncorrectAuthenticationCredentialException"
    assert error_code(create_store, kms, "wrong-path", creds[0], path="/other/kms/xks/v1") == "XksProxyInvalidConfigurationException"
    # Nothing listens on 127.0.0.2:443; the certificate names localhost, not 127.0.0.1.
    assert error_code(create_store, kms, "nobody", creds[0], endpoint="https://127.0.0.2") == "XksProxyUriUnreachableException"
    assert error_code(create_store, kms, "wrong-name", creds[0], endpoint="https://127.0.0.1") == "XksProxyUriUnreachableException"
    assert error_code(create_store, kms, "vpc", creds[0], connectivity="VPC_ENDPOINT_SERVICE") == "UnsupportedOperationException"
    # A proxy that completes the TLS handshake and never answers: AWS's 250 ms, then the timeout's message.
    with silent_proxy(proxy.tls):
        code, text = message(create_store, kms=kms, name="silent", cred=creds[0], endpoint="https://127.0.0.3")
        assert code == "XksProxyUriUnreachableException" and "did not respond in time" in text
    # One that answers, but not as an XKS proxy does.
    with silent_proxy(proxy.tls, answer=NOT_A_HEALTH_STATUS):
        assert error_code(create_store, kms, "babbling", creds[0], endpoint="https://127.0.0.3") == "XksProxyInvalidResponseException"
    assert error_code(kms.create_custom_key_store, CustomKeyStoreName="incomplete", CustomKeyStoreType="EXTERNAL_KEY_STORE",
                      XksProxyUriEndpoint=ENDPOINT) == "ValidationException"
    store_id = create_store(kms, "first", creds[0])
    assert error_code(create_store, kms, "same-uri", creds[1]) == "XksProxyUriInUseException"
    assert error_code(create_store, kms, "first", creds[1], path="/acme2/kms/xks/v1") == "CustomKeyStoreNameInUseException"
    entry = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
    assert entry["ConnectionState"] == "DISCONNECTED" and entry["CustomKeyStoreType"] == "EXTERNAL_KEY_STORE"
    assert entry["XksProxyConfiguration"] == {"Connectivity": "PUBLIC_ENDPOINT", "AccessKeyId": creds[0][0], "UriEndpoint": ENDPOINT,
                                              "UriPath": PATH}

    # UpdateCustomKeyStore checks the proxy at its new settings as CreateCustomKeyStore does.
    second = create_store(kms, "second", creds[0], path=OTHER_PATH)
    def update(**members):
        return error_code(kms.update_custom_key_store, CustomKeyStoreId=second, **members)
    assert update(XksProxyUriPath=PATH) == "XksProxyUriInUseException"
    assert update(XksProxyUriPath="/other/kms/xks/v1") == "XksProxyInvalidConfigurationException"
    assert update(XksProxyUriEndpoint="https://127.0.0.2") == "XksProxyUriUnreachableException"
    with silent_proxy(proxy.tls, answer=NOT_A_HEALTH_STATUS):
        assert update(XksProxyUriEndpoint="https://127.0.0.3") == "XksProxyInvalidResponseException"
    assert update(XksProxyConnectivity="VPC_ENDPOINT_SERVICE") == "UnsupportedOperationException"
    assert kms.describe_custom_key_stores(CustomKeyStoreId=second)["CustomKeyStores"][0]["XksProxyConfiguration"]["UriPath"] == OTHER_PATH
    for created in (store_id, second):
        kms.delete_custom_key_store(CustomKeyStoreId=created)


def test_keys_in_an_external_key_store(setup):
    proxy, server, creds = setup
    kms = server.client()
    store_id = create_store(kms, "xks", creds[0])
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, Origin="EXTERNAL_KEY_STORE",
                      XksKeyId="ext-1") == "CustomKeyStoreInvalidStateException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"

    # CreateKey asks the proxy for the external key's metadata.
    def create(xks_key_id, **kw):
        return kms.create_key(CustomKeyStoreId=store_id, Origin="EXTERNAL_KEY_STORE", XksKeyId=xks_key_id, **kw)["KeyMetadata"]
    assert error_code(create, "no-such-key") == "XksKeyNotFoundException"
    assert error_code(create, "ext-decrypt-only") == "XksKeyInvalidConfigurationException"
    assert error_code(create, "ext-disabled") == "XksKeyInvalidConfigurationException"
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, Origin="EXTERNAL_KEY_STORE") == "ValidationException"
    assert error_code(kms.create_key, CustomKeyStoreId=store_id, XksKeyId="ext-1") == "ValidationException"
    assert error_code(create, "ext-1", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY") == "UnsupportedOperationException"
    assert error_code(create, "ext-1", MultiRegion=True) == "UnsupportedOperationException"
    key = create("ext-1", Description="external")
    assert error_code(create, "ext-1") == "XksKeyAlreadyInUseException"
    assert key["Origin"] == "EXTERNAL_KEY_STORE" and key["CustomKeyStoreId"] == store_id
    assert key["XksKeyConfiguration"] == {"Id": "ext-1"} and key["KeyState"] == "Enabled"
    assert "CloudHsmClusterId" not in key
    key_id = key["KeyId"]

    context = {"app": "demo", "tenant": "7"}
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"the launch codes", EncryptionContext=context)["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == b"the launch codes"
    # Double encryption, opened from outside: the blob's sealed box is the external key's layer
    # (IV length, metadata length, IV, metadata, tag, ciphertext) under AAD = header || SHA-256(context),
    # given to the token as 2-byte length || AAD || 1-byte metadata length.
    header, box = blob[:62], blob[62:]
    iv_len, md_len = box[0], box[1]
    assert iv_len == 12 and md_len == 0
    iv, tag, outer = box[2:14], box[14:30], box[30:]
    aad = header + hashlib.sha256(context_bytes(context)).digest()
    inner = pkcs11_client.run(proxy.env, MODULE, TOKEN, PIN, "ext-1", "decrypt", iv.hex(),
                              (struct.pack(">H", len(aad)) + aad + b"\x00").hex(), (outer + tag).hex())
    inner_box = bytes.fromhex(inner["plaintext"])
    # The inner layer is SwiftKMS's own AES-GCM: the plaintext's length plus a 16-byte tag, not the plaintext.
    assert len(inner_box) == len(b"the launch codes") + 16 and b"the launch codes" not in inner_box
    assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"app": "other"}) == "KMSInvalidStateException"
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    assert error_code(kms.decrypt, CiphertextBlob=tampered, EncryptionContext=context) == "KMSInvalidStateException"

    # Data keys, ReEncrypt both ways, and a 4096-byte plaintext.
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    assert kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext=context)["Plaintext"] == data_key["Plaintext"]
    without = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)["CiphertextBlob"]
    assert len(kms.decrypt(CiphertextBlob=without)["Plaintext"]) == 64
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    moved = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext=context, DestinationKeyId=other)["CiphertextBlob"]
    back = kms.re_encrypt(CiphertextBlob=moved, DestinationKeyId=key_id, DestinationEncryptionContext={"x": "y"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=back, EncryptionContext={"x": "y"})["Plaintext"] == b"the launch codes"
    big = os.urandom(4096)
    assert kms.decrypt(CiphertextBlob=kms.encrypt(KeyId=key_id, Plaintext=big)["CiphertextBlob"])["Plaintext"] == big

    # What AWS refuses for these keys.
    assert error_code(kms.enable_key_rotation, KeyId=key_id) == "UnsupportedOperationException"
    assert error_code(kms.generate_random, NumberOfBytes=8, CustomKeyStoreId=store_id) == "UnsupportedOperationException"

    # The proxy's audit log names KMS's request, operation, principal and key.
    records = [json.loads(line) for line in proxy.audit_log.read_text().splitlines()]
    encrypts = [r for r in records if r["xksOperation"] == "Encrypt" and r.get("kmsOperation") == "Encrypt"]
    assert encrypts and encrypts[0]["kmsKeyArn"].endswith(key_id) and encrypts[0]["awsPrincipalArn"].endswith(":root")
    assert any(r.get("kmsOperation") == "ConnectCustomKeyStore" and r["xksOperation"] == "GetHealthStatus" for r in records)

    # The secret access key is sealed in the database, and in no log.
    for path in (server.stderr_path, server.stdout_path, proxy.folder / "proxy.log", proxy.audit_log):
        text = open(path, encoding="utf-8", errors="replace").read()
        assert creds[0][1] not in text and "the launch codes" not in text
    if STORE == "sqlite":
        for name in os.listdir(server.data_dir):
            if name.startswith("swiftkms.sqlite3"):
                raw = open(os.path.join(server.data_dir, name), "rb").read()
                assert creds[0][1].encode() not in raw
    setup_state["store"], setup_state["key"], setup_state["blob"], setup_state["context"] = store_id, key_id, blob, context


setup_state = {}


def test_external_key_disabled_replaced_and_credentials_rotated(setup):
    proxy, server, creds = setup
    kms = server.client()
    store_id, key_id = setup_state["store"], setup_state["key"]
    second = kms.create_key(CustomKeyStoreId=store_id, Origin="EXTERNAL_KEY_STORE", XksKeyId="ext-replaced")["KeyMetadata"]["KeyId"]
    old_blob = kms.encrypt(KeyId=second, Plaintext=b"under the first external key")["CiphertextBlob"]

    # Disabled in the proxy (SIGHUP): KMSInvalidStateException with AWS's message; enabled again, it works.
    proxy.reload(dict(proxy.config, keys={"ext-disabled": {"status": "DISABLED"}, "ext-1": {"status": "DISABLED"}}))
    code, text = message(kms.encrypt, KeyId=key_id, Plaintext=b"x")
    assert code == "KMSInvalidStateException" and "not enabled in the external key manager" in text
    proxy.reload(dict(proxy.config, keys={"ext-disabled": {"status": "DISABLED"}}))
    assert kms.decrypt(CiphertextBlob=setup_state["blob"], EncryptionContext=setup_state["context"])["Plaintext"] == b"the launch codes"

    # The external key replaced by another of the same ID: old ciphertexts no longer open.
    pkcs11_client.run(proxy.env, MODULE, TOKEN, PIN, "ext-replaced", "destroy")
    proxy.create_key("ext-replaced")
    code, text = message(kms.decrypt, CiphertextBlob=old_blob)
    assert code == "KMSInvalidStateException" and "corrupted" in text
    fresh = kms.encrypt(KeyId=second, Plaintext=b"under the second")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=fresh)["Plaintext"] == b"under the second"

    # Credentials: a wrong secret is refused (and not saved); the second credential, while connected, is.
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id,
                      XksProxyAuthenticationCredential={"AccessKeyId": creds[1][0], "RawSecretAccessKey": creds[0][1]}) == \
        "XksProxyIncorrectAuthenticationCredentialException"
    kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="xks-renamed",
                                XksProxyAuthenticationCredential={"AccessKeyId": creds[1][0], "RawSecretAccessKey": creds[1][1]})
    entry = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
    assert entry["CustomKeyStoreName"] == "xks-renamed" and entry["XksProxyConfiguration"]["AccessKeyId"] == creds[1][0]
    # The proxy drops the first credential: nothing breaks.
    proxy.reload(dict(proxy.config, uriPaths=[{"uriPath": PATH, "credentials": [{"accessKeyId": creds[1][0], "secretAccessKey": creds[1][1]}]}]))
    assert kms.decrypt(CiphertextBlob=setup_state["blob"], EncryptionContext=setup_state["context"])["Plaintext"] == b"the launch codes"
    # The endpoint changes only while disconnected.
    assert error_code(kms.update_custom_key_store, CustomKeyStoreId=store_id, XksProxyUriEndpoint="https://127.0.0.2") == \
        "CustomKeyStoreInvalidStateException"


def test_proxy_down_fails_the_store_and_recovery(setup):
    proxy, server, creds = setup
    kms = server.client()
    store_id, key_id = setup_state["store"], setup_state["key"]
    proxy.stop()
    code, text = message(kms.encrypt, KeyId=key_id, Plaintext=b"x")
    assert code == "KMSInvalidStateException" and "cannot communicate with the external key store proxy" in text
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"
    assert error_code(kms.encrypt, KeyId=key_id, Plaintext=b"x") == "KMSInvalidStateException"
    assert error_code(kms.delete_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreHasCMKsException"
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    failed = wait_state(kms, store_id, "FAILED", "CONNECTED")
    assert failed["ConnectionState"] == "FAILED" and failed["ConnectionErrorCode"] == "XKS_PROXY_NOT_REACHABLE"
    assert error_code(kms.connect_custom_key_store, CustomKeyStoreId=store_id) == "CustomKeyStoreInvalidStateException"
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Unavailable"

    proxy.start()
    kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    assert wait_state(kms, store_id, "CONNECTED", "FAILED")["ConnectionState"] == "CONNECTED"
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.decrypt(CiphertextBlob=setup_state["blob"], EncryptionContext=setup_state["context"])["Plaintext"] == b"the launch codes"

    # Survives a SIGKILL of the server: the store is CONNECTED and its keys work after a restart.
    server.kill()
    server.start()
    kms = server.client()
    assert kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"
    assert kms.decrypt(CiphertextBlob=setup_state["blob"], EncryptionContext=setup_state["context"])["Plaintext"] == b"the launch codes"


def test_the_aws_cli_session(setup, tmp_path):
    """As the README's session: the CLI, with cli_follow_urlparam off (CLI v1 would fetch an https:// value)."""
    proxy, server, creds = setup
    config = tmp_path / "aws-config"
    config.write_text("[default]\ncli_follow_urlparam = false\n")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=server.env["SWIFTKMS_ROOT_ACCESS_KEY_ID"],
               AWS_SECRET_ACCESS_KEY=server.env["SWIFTKMS_ROOT_SECRET_ACCESS_KEY"], AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL_KMS=server.url, AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE="/dev/null")

    def aws(*args):
        out = subprocess.run(["aws", "kms", *args], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    # The proxy serves one URI path; a second store needs another: add it, as an operator would.
    proxy.reload(dict(proxy.config, uriPaths=proxy.config["uriPaths"] + [
        {"uriPath": "/cli/kms/xks/v1", "credentials": [{"accessKeyId": creds[1][0], "secretAccessKey": creds[1][1]}]}]))
    store_id = aws("create-custom-key-store", "--custom-key-store-name", "cli-xks", "--custom-key-store-type", "EXTERNAL_KEY_STORE",
                   "--xks-proxy-connectivity", "PUBLIC_ENDPOINT", "--xks-proxy-uri-endpoint", ENDPOINT,
                   "--xks-proxy-uri-path", "/cli/kms/xks/v1", "--xks-proxy-authentication-credential",
                   f"AccessKeyId={creds[1][0]},RawSecretAccessKey={creds[1][1]}", "--query", "CustomKeyStoreId", "--output", "text")
    aws("connect-custom-key-store", "--custom-key-store-id", store_id)
    deadline = time.time() + 30
    while aws("describe-custom-key-stores", "--custom-key-store-id", store_id, "--query", "CustomKeyStores[0].ConnectionState",
              "--output", "text") != "CONNECTED":
        assert time.time() < deadline
        time.sleep(0.2)
    key_id = aws("create-key", "--custom-key-store-id", store_id, "--origin", "EXTERNAL_KEY_STORE", "--xks-key-id", "ext-2",
                 "--query", "KeyMetadata.KeyId", "--output", "text")
    (tmp_path / "secret.txt").write_bytes(b"cli secret")
    blob = aws("encrypt", "--key-id", key_id, "--plaintext", f"fileb://{tmp_path / 'secret.txt'}", "--query", "CiphertextBlob",
               "--output", "text")
    (tmp_path / "secret.enc").write_bytes(base64.b64decode(blob))
    plain = aws("decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'secret.enc'}", "--query", "Plaintext", "--output", "text")
    assert base64.b64decode(plain) == b"cli secret"
    assert aws("describe-key", "--key-id", key_id, "--query", "KeyMetadata.XksKeyConfiguration.Id", "--output", "text") == "ext-2"
