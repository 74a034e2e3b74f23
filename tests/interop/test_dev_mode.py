"""`swiftkms serve --dev` and seed files, as a test suite written for a local emulator uses
them: one command, the credentials test/test, keys with fixed IDs and fixed material. What the
server does with seeded material is reproduced by independent code (Python's `cryptography`,
gmssl for SM2) from the material in the seed file."""
import base64
import hashlib
import hmac
import json
import os
import re
import sys
import signal
import subprocess
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

from blobformat import open_blob, seal
from conftest import BINARY, ROOT, SECRETS, error_code, free_port

ACCOUNT = "000000000000"


class DevServer:
    """`swiftkms serve --dev` as a test suite starts it, with its printed start-up lines."""

    def __init__(self, *args, env=None):
        self.port = free_port()
        self.args = ["serve", "--dev", "--port", str(self.port), *args]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SWIFTKMS_")}
        self.env.update(env or {})

    def start(self):
        self.proc = subprocess.Popen([BINARY, *self.args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"exited with {self.proc.returncode}: {self.proc.stderr.read()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the development server did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err

    def client(self, region="us-east-1", access_key="test", secret="test"):
        return boto3.client("kms", endpoint_url=f"http://127.0.0.1:{self.port}", region_name=region, aws_access_key_id=access_key,
                            aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def fails_to_start(*args, env=None):
    """(exit status, standard error) of a server that must refuse to start."""
    result = subprocess.run([BINARY, "serve", "--port", str(free_port()), *args], capture_output=True, text=True, timeout=60,
                            env={**{k: v for k, v in os.environ.items() if not k.startswith("SWIFTKMS_")}, **(env or {})})
    return result.returncode, result.stderr


def pem(private_key):
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def der(tag, body):
    length = len(body)
    encoded = bytes([length]) if length < 128 else bytes([0x80 | ((length.bit_length() + 7) // 8)]) + length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag]) + encoded + body


def sm2_pkcs8(secret_hex, public_hex):
    """PKCS#8 of an SM2 private key, built by hand: `cryptography` has no SM2 curve."""
    algorithm = der(0x30, der(0x06, bytes.fromhex("2a8648ce3d0201")) + der(0x06, bytes.fromhex("2a811ccf5501822d")))
    ec_key = der(0x30, der(0x02, b"\x01") + der(0x04, bytes.fromhex(secret_hex)) + der(0xA1, der(0x03, b"\x00\x04" + bytes.fromhex(public_hex))))
    info = der(0x30, der(0x02, b"\x00") + algorithm + der(0x04, ec_key))
    body = base64.b64encode(info).decode()
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END PRIVATE KEY-----\n"


def key_id(n):
    return f"{n:08x}-0000-4000-8000-00000000{n:04x}"


def every_spec():
    """One key of every spec with fixed material: (entry, what checks it)."""
    from gmssl import sm2
    entries = []
    aes = bytes(range(32))
    entries.append(({"KeySpec": "SYMMETRIC_DEFAULT", "KeyMaterial": base64.b64encode(aes).decode()}, ("aes", aes)))
    for n, (spec, size) in enumerate((("HMAC_224", 28), ("HMAC_256", 32), ("HMAC_384", 48), ("HMAC_512", 64))):
        material = bytes([n + 1]) * size
        entries.append(({"KeySpec": spec, "KeyUsage": "GENERATE_VERIFY_MAC", "KeyMaterial": base64.b64encode(material).decode()},
                        ("hmac", material)))
    for bits in (2048, 3072, 4096):
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        entries.append(({"KeySpec": f"RSA_{bits}", "KeyUsage": "SIGN_VERIFY", "KeyMaterial": pem(private)}, ("rsa-sign", private)))
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    entries.append(({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT", "KeyMaterial": pem(private)}, ("rsa-decrypt", private)))
    for spec, curve in (("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1()), ("ECC_NIST_P521", ec.SECP521R1()),
                        ("ECC_SECG_P256K1", ec.SECP256K1())):
        private = ec.generate_private_key(curve)
        entries.append(({"KeySpec": spec, "KeyUsage": "SIGN_VERIFY", "KeyMaterial": pem(private)}, ("ecdsa", private)))
    private = ec.generate_private_key(ec.SECP384R1())
    entries.append(({"KeySpec": "ECC_NIST_P384", "KeyUsage": "KEY_AGREEMENT", "KeyMaterial": pem(private)}, ("ecdh", private)))
    private = ed25519.Ed25519PrivateKey.generate()
    entries.append(({"KeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": "SIGN_VERIFY", "KeyMaterial": pem(private)}, ("ed25519", private)))
    for spec, kind in (("ML_DSA_44", mldsa.MLDSA44PrivateKey), ("ML_DSA_65", mldsa.MLDSA65PrivateKey), ("ML_DSA_87", mldsa.MLDSA87PrivateKey)):
        private = kind.generate()
        entries.append(({"KeySpec": spec, "KeyUsage": "SIGN_VERIFY", "KeyMaterial": pem(private)}, ("mldsa", private)))
    secret = os.urandom(32).hex()
    public = sm2.CryptSM2(private_key=secret, public_key="")._kg(int(secret, 16), sm2.default_ecc_table["g"])
    entries.append(({"KeySpec": "SM2", "KeyUsage": "SIGN_VERIFY", "Region": "cn-north-1", "KeyMaterial": sm2_pkcs8(secret, public)},
                    ("sm2", (secret, public))))
    for n, (entry, _) in enumerate(entries):
        entry["KeyId"] = key_id(n + 1)
    return entries


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dev")
    entries = every_spec()
    seed = folder / "keys.json"
    seed.write_text(json.dumps({"Keys": [entry for entry, _ in entries]}, indent=2))
    for entry, _ in entries:
        SECRETS.add(entry["KeyMaterial"].encode())
    server = DevServer("--seed", str(seed), "--account-id", ACCOUNT).start()
    yield server, entries
    server.stop()


def test_one_step_start_with_test_credentials_and_a_temporary_directory():
    server = DevServer("--account-id", ACCOUNT).start()
    kms = server.client(region="eu-central-1")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    assert arn.startswith(f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/")
    assert error_code(server.client(secret="not-test").list_keys) == "InvalidSignatureException"
    status, out, err = server.stop()
    assert status == 0
    assert "SwiftKMS DEVELOPMENT SERVER (not for production)" in out and "credentials:  test / test" in out
    assert "DEVELOPMENT SERVER" in err
    data = re.search(r"data:\s+(\S+)\s+\(deleted at exit\)", out).group(1)
    assert data.startswith("/") and not os.path.exists(data)


def test_seeded_material_reproduced_by_independent_code(seeded):
    from gmssl import sm2
    from test_sm2 import der_to_raw, gm
    server, entries = seeded
    kms = server.client()
    for entry, (kind, material) in entries:
        key = entry["KeyId"]
        client = server.client(region=entry.get("Region", "us-east-1"))
        assert client.describe_key(KeyId=key)["KeyMetadata"]["KeySpec"] == entry["KeySpec"], entry["KeySpec"]
        message = f"reproduced for {entry['KeySpec']}".encode()
        if kind == "aes":
            context = {"purpose": "seed"}
            blob = kms.encrypt(KeyId=key, Plaintext=message, EncryptionContext=context)["CiphertextBlob"]
            assert open_blob(material, blob, context) == message
            mine = seal(material, ACCOUNT, key, 1, os.urandom(16), os.urandom(12), b"sealed by Python", context)
            assert kms.decrypt(CiphertextBlob=mine, EncryptionContext=context)["Plaintext"] == b"sealed by Python"
        elif kind == "hmac":
            digest = {"HMAC_224": hashlib.sha224, "HMAC_256": hashlib.sha256, "HMAC_384": hashlib.sha384, "HMAC_512": hashlib.sha512}[entry["KeySpec"]]
            algorithm = "HMAC_SHA_" + entry["KeySpec"][5:]
            assert kms.generate_mac(KeyId=key, Message=message, MacAlgorithm=algorithm)["Mac"] == hmac.new(material, message, digest).digest()
        elif kind == "rsa-sign":
            signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
            material.public_key().verify(signature, message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
        elif kind == "rsa-decrypt":
            oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
            blob = material.public_key().encrypt(message, oaep)
            assert kms.decrypt(KeyId=key, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == message
        elif kind == "ecdsa":
            algorithm, digest = {"ECC_NIST_P384": ("ECDSA_SHA_384", hashes.SHA384()), "ECC_NIST_P521": ("ECDSA_SHA_512", hashes.SHA512())}.get(
                entry["KeySpec"], ("ECDSA_SHA_256", hashes.SHA256()))
            signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm=algorithm)["Signature"]
            material.public_key().verify(signature, message, ec.ECDSA(digest))
        elif kind == "ecdh":
            peer = ec.generate_private_key(ec.SECP384R1())
            spki = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            shared = kms.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=spki)["SharedSecret"]
            assert shared == peer.exchange(ec.ECDH(), material.public_key())
        elif kind == "ed25519":
            signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm="ED25519_SHA_512")["Signature"]
            material.public_key().verify(signature, message)
        elif kind == "mldsa":
            signature = kms.sign(KeyId=key, Message=message, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
            material.public_key().verify(signature, message)
        elif kind == "sm2":
            secret, public = material
            published = client.get_public_key(KeyId=key)["PublicKey"]
            assert published.endswith(bytes.fromhex(public))
            signature = client.sign(KeyId=key, Message=message, SigningAlgorithm="SM2DSA")["Signature"]
            assert gm(published).verify_with_sm3(der_to_raw(signature), message)
        else:
            raise AssertionError(kind)
    assert {entry["KeySpec"] for entry, _ in entries} >= {
        "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256",
        "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "SM2"}


def test_a_seed_applied_at_every_start_changes_only_what_it_declares(tmp_path):
    data = tmp_path / "data"
    seed = tmp_path / "keys.yaml"
    material = base64.b64encode(os.urandom(32)).decode()
    SECRETS.add(material.encode())
    seed.write_text(f"""
Keys:
  - KeyId: {key_id(1)}
    Description: payments
    Aliases: [alias/payments]
    Tags: {{team: payments}}
    KeyRotationEnabled: true
    KeyMaterial: {material}
  - KeyId: mrk-0123456789abcdef0123456789abcdef
    ReplicaRegions: [eu-west-1]
Users:
  - UserName: ci
    AccessKeys: [{{AccessKeyId: ci, SecretAccessKey: ci-secret}}]
    Policies:
      use: {{Version: "2012-10-17", Statement: [{{Effect: Allow, Action: "kms:*", Resource: "*"}}]}}
""")
    server = DevServer("--data-dir", str(data), "--seed", str(seed)).start()
    kms = server.client()
    blob = kms.encrypt(KeyId="alias/payments", Plaintext=b"before the restart")["CiphertextBlob"]
    mine = kms.create_key(Description="not in the seed")["KeyMetadata"]["KeyId"]
    kms.tag_resource(KeyId=key_id(1), Tags=[{"TagKey": "added", "TagValue": "by a test"}])
    assert server.client(region="eu-west-1").describe_key(KeyId="mrk-0123456789abcdef0123456789abcdef")["KeyMetadata"][
        "MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert server.client(access_key="ci", secret="ci-secret").list_aliases(KeyId=key_id(1))["Aliases"][0]["AliasName"] == "alias/payments"
    status, _, err = server.stop()
    assert status == 0 and "created=4" in err  # two keys, a replica and a user
    assert material not in err
    # The seeded material is marked in the key's audit history; generated material is not.
    trail = subprocess.run([BINARY, "audit", "lookup", "--data-dir", str(data)], capture_output=True, text=True, timeout=60).stdout
    marked = [line.split()[3] for line in trail.splitlines() if " SeedKeyMaterial " in line]
    assert marked == [key_id(1)]
    # The same seed again: nothing changes, and what the seed does not declare is kept.
    server = DevServer("--data-dir", str(data), "--seed", str(seed)).start()
    kms = server.client()
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before the restart"
    assert kms.describe_key(KeyId=mine)["KeyMetadata"]["Description"] == "not in the seed"
    assert {t["TagKey"] for t in kms.list_resource_tags(KeyId=key_id(1))["Tags"]} == {"team", "added"}
    status, _, err = server.stop()
    assert "created=0" in err and "updated=0" in err
    # A changed declaration updates the key; another material for an existing key is refused.
    seed.write_text(seed.read_text().replace("Description: payments", "Description: payments, v2"))
    server = DevServer("--data-dir", str(data), "--seed", str(seed)).start()
    assert server.client().describe_key(KeyId="alias/payments")["KeyMetadata"]["Description"] == "payments, v2"
    _, _, err = server.stop()
    assert "updated=1" in err
    seed.write_text(seed.read_text().replace(material, base64.b64encode(os.urandom(32)).decode()))
    status, err = fails_to_start("--dev", "--data-dir", str(data), "--seed", str(seed))
    assert status != 0 and f"seed file {seed}: Keys[0]: KeyMaterial: " in err and "does not replace a key's material" in err


BAD_SEEDS = [
    ("Keys: [{KeyId: 1234}]", "Keys[0].KeyId: '1234' is not a key ID"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555, KeySpec: RSA_1024}]", "Keys[0].KeySpec: 'RSA_1024' is not one of"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555, KeySpec: RSA_2048}]", "Keys[0].KeyUsage: required for a key of spec RSA_2048"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555, Desciption: typo}]", "Keys[0].Desciption: is not a member of this entry"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555, KeyMaterial: AAAA}]",
     "Keys[0].KeyMaterial: is not key material of key spec SYMMETRIC_DEFAULT: expected 32 bytes"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555, Aliases: [payments]}]", "Keys[0].Aliases[0]: Alias must start with the prefix"),
    ("Keys: [{KeyId: 11111111-2222-3333-4444-555555555555}, {KeyId: 11111111-2222-3333-4444-555555555555}]",
     "Keys[1].KeyId: 11111111-2222-3333-4444-555555555555 is declared twice in us-east-1"),
    ("Users: [{UserName: ci, AccessKeys: [{AccessKeyId: ci}]}]", "Users[0].AccessKeys[0].SecretAccessKey: is required"),
    ("Keys: [{KeyId: mrk-0123456789abcdef0123456789abcdef, ReplicaRegions: [eu-west-1]},"
     " {KeyId: mrk-0123456789abcdef0123456789abcdef, Region: eu-west-1}]",
     "Keys[0].ReplicaRegions[0]: mrk-0123456789abcdef0123456789abcdef in eu-west-1 is declared as a key of its own too"),
    ("Keys: {KeyId: x}", "Keys: must be a list"),
    ("Keys: [unclosed", "is not YAML or JSON"),
]


@pytest.mark.parametrize("text,expected", BAD_SEEDS)
def test_a_bad_seed_file_names_the_entry_and_field_and_starts_nothing(tmp_path, text, expected):
    seed = tmp_path / "bad.yaml"
    seed.write_text(text)
    status, err = fails_to_start("--dev", "--data-dir", str(tmp_path / "data"), "--seed", str(seed))
    assert status != 0 and f"seed file {seed}: " in err and expected in err, err
    assert not (tmp_path / "data").exists()


def test_test_credentials_only_in_dev_mode(tmp_path):
    data = tmp_path / "data"
    server = DevServer("--data-dir", str(data)).start()
    assert server.client().list_keys()["Keys"] == []
    server.stop()
    # The same data directory served for real: the key `test` is unknown there.
    production = subprocess.Popen([BINARY, "serve", "--data-dir", str(data), "--port", str(server.port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env={k: v for k, v in os.environ.items() if not k.startswith("SWIFTKMS_")})
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        assert error_code(server.client().list_keys) == "UnrecognizedClientException"
    finally:
        production.send_signal(signal.SIGTERM)
        production.communicate(timeout=60)
    # Nor does a production server take them from a seed, or from its environment.
    seed = tmp_path / "users.yaml"
    seed.write_text("Users: [{UserName: ci, AccessKeys: [{AccessKeyId: test, SecretAccessKey: test}]}]")
    status, err = fails_to_start("--data-dir", str(data), "--seed", str(seed))
    assert status != 0 and "Users[0]: AccessKeys: test is not an access key ID of IAM's format" in err
    status, err = fails_to_start("--data-dir", str(data), env={"SWIFTKMS_ROOT_ACCESS_KEY_ID": "test", "SWIFTKMS_ROOT_SECRET_ACCESS_KEY": "test"})
    assert status != 0 and "SWIFTKMS_ROOT_ACCESS_KEY_ID must be 16–128 letters and digits" in err


def test_export_seed_round_trip(tmp_path):
    """`admin export-seed --include-key-material` of one server, seeded into another: the
    second decrypts what the first encrypted."""
    first = DevServer("--data-dir", str(tmp_path / "first")).start()
    kms = first.client()
    key = kms.create_key(Description="exported", Tags=[{"TagKey": "app", "TagValue": "shop"}])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/shop", TargetKeyId=key)
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId="alias/shop", Plaintext=b"moved")["CiphertextBlob"]
    signature = kms.sign(KeyId=signing, Message=b"signed", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    first.stop()
    seed = tmp_path / "exported.yaml"
    exported = subprocess.run([BINARY, "admin", "export-seed", "--data-dir", str(tmp_path / "first"), "--include-key-material",
                               "--output", str(seed)], capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    assert oct(os.stat(seed).st_mode & 0o777) == "0o600" and "KeyMaterial:" in seed.read_text()
    without = subprocess.run([BINARY, "admin", "export-seed", "--data-dir", str(tmp_path / "first")], capture_output=True, text=True, timeout=60)
    assert "KeyMaterial" not in without.stdout and f"KeyId: {key}" in without.stdout
    second = DevServer("--seed", str(seed)).start()
    kms = second.client()
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"moved"
    assert kms.verify(KeyId=signing, Message=b"signed", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "app", "TagValue": "shop"}]
    assert kms.describe_key(KeyId="alias/shop")["KeyMetadata"]["Description"] == "exported"
    second.stop()


def test_the_emulator_suite_of_the_migration_guide_passes_unchanged():
    """docs/examples/emulator-suite: tests written as for LocalStack, run against
    `swiftkms serve --dev --seed keys.yaml` by the guide's own fixture."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_ENDPOINT", "SWIFTKMS_"))}
    env["SWIFTKMS_BIN"] = BINARY
    suite = os.path.join(ROOT, "docs", "examples", "emulator-suite")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite], capture_output=True, text=True,
                            timeout=300, env=env, cwd=suite)
    assert result.returncode == 0 and "5 passed" in result.stdout, result.stdout + result.stderr
