"""The service's root key sealed by an HSM (SoftHSM2 over PKCS#11), as Vault's PKCS#11 seal: a new
deployment whose root key is never on disk in the clear, and the migration of an existing one
from a root key file (`swiftkms admin seal-root-key`)."""

import base64
import os
import subprocess

import pytest

import pkcs11_client
from conftest import BINARY, Server, store_args

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "root-seal-pin-1"


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    root = tmp_path_factory.mktemp("softhsm-root")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "root-seal", "--so-pin", "87654321", "--pin", PIN],
                   check=True, capture_output=True, env=dict(os.environ, SOFTHSM2_CONF=str(conf)))
    return {"SOFTHSM2_CONF": str(conf), "SWIFTKMS_ROOT_KEY_PKCS11_PIN": PIN}


HSM_ARGS = ["--root-key-pkcs11-module", MODULE, "--root-key-pkcs11-token-label", "root-seal"]


def sealing_key_is_sensitive(env, label="swiftkms-root-key-seal"):
    flags = pkcs11_client.run(dict(os.environ, **env), MODULE, "root-seal", PIN, label, "inspect")
    return flags["sensitive"] and not flags["extractable"] and flags["valueRefused"]


def test_a_new_deployment_keeps_its_root_key_only_sealed(token, tmp_path):
    data = tmp_path / "data"
    server = Server(data, env=dict(token, SWIFTKMS_ROOT_ACCESS_KEY_ID="AKIAROOTSEALTEST0001",
                                   SWIFTKMS_ROOT_SECRET_ACCESS_KEY="root/seal/secret/key/for/the/test/0001"),
                    args=HSM_ARGS)
    server.start()
    kms = server.client(access_key="AKIAROOTSEALTEST0001", secret_key="root/seal/secret/key/for/the/test/0001")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"under a sealed root")["CiphertextBlob"]
    assert not (data / "root.key").exists()
    sealed = (data / "root.key.sealed").read_bytes()
    assert sealed.startswith(b"swiftkms-sealed-root-key-v1:") and oct((data / "root.key.sealed").stat().st_mode & 0o777) == "0o600"
    assert sealing_key_is_sensitive(token)
    server.kill()
    server.start()
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"under a sealed root"
    server.stop()

    # Without the right PIN the server does not start, and says why without the PIN.
    wrong = subprocess.run([BINARY, "serve", *store_args(data), "--port", "1", *HSM_ARGS], capture_output=True, text=True,
                           env=dict(os.environ, **dict(token, SWIFTKMS_ROOT_KEY_PKCS11_PIN="not-the-pin")), timeout=60)
    assert wrong.returncode != 0 and "CKR_PIN_INCORRECT" in wrong.stderr and "not-the-pin" not in wrong.stderr
    missing = subprocess.run([BINARY, "serve", *store_args(data), "--port", "1", *HSM_ARGS], capture_output=True, text=True,
                             env=dict(os.environ, SOFTHSM2_CONF=token["SOFTHSM2_CONF"], SWIFTKMS_ROOT_KEY_PKCS11_PIN=""), timeout=60)
    assert missing.returncode != 0 and "SWIFTKMS_ROOT_KEY_PKCS11_PIN" in missing.stderr


def test_an_existing_deployment_migrates_to_a_sealed_root_key(token, tmp_path):
    data = tmp_path / "data"
    server = Server(data).start()
    kms = server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"made before the seal")["CiphertextBlob"]
    server.stop()
    plaintext = (data / "root.key").read_bytes()

    out = subprocess.run([BINARY, "admin", "seal-root-key", *store_args(data), *HSM_ARGS, "--root-key-pkcs11-key-label", "migrated"],
                         capture_output=True, text=True, env=dict(os.environ, **token), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "overwrote and removed" in out.stdout
    assert not (data / "root.key").exists()
    sealed = (data / "root.key.sealed").read_bytes()
    assert plaintext.strip() not in sealed
    # An independent PKCS#11 client opens the sealed file in the token, from the format that
    # RootKeySeal documents, and finds the root key the plaintext file held.
    assert sealed.startswith(b"swiftkms-sealed-root-key-v1:")
    raw = base64.b64decode(sealed[len(b"swiftkms-sealed-root-key-v1:"):].strip())
    opened = pkcs11_client.run(dict(os.environ, **token), MODULE, "root-seal", PIN, "migrated", "decrypt", raw[:12].hex(),
                               b"swiftkms/root-key-seal/v1".hex(), raw[12:].hex())
    assert bytes.fromhex(opened["plaintext"]) == base64.b64decode(plaintext.strip())
    assert sealing_key_is_sensitive(token, "migrated")

    server.env.update(token)
    server.args = HSM_ARGS + ["--root-key-pkcs11-key-label", "migrated"]
    server.start()
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"made before the seal"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    server.stop()
