"""Results of the real server checked by code nobody here wrote: Python's `hmac` and
`cryptography`, over key material unwrapped independently from the data directory."""
import hashlib
import hmac
import os

import pytest

from blobformat import open_blob, seal, unwrap_material
from conftest import error_code

HMAC_SPECS = {"HMAC_224": ("HMAC_SHA_224", hashlib.sha224), "HMAC_256": ("HMAC_SHA_256", hashlib.sha256),
              "HMAC_384": ("HMAC_SHA_384", hashlib.sha384), "HMAC_512": ("HMAC_SHA_512", hashlib.sha512)}


def test_symmetric_blobs_match_an_independent_implementation(server, kms):
    meta = kms.create_key()["KeyMetadata"]
    material = unwrap_material(server.data_dir, meta["Arn"])
    assert len(material) == 32
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"checked elsewhere", EncryptionContext={"z": "1", "a": "2"})["CiphertextBlob"]
    assert open_blob(material, blob, {"a": "2", "z": "1"}) == b"checked elsewhere"
    # And the other way: a blob sealed by Python decrypts through the server.
    mine = seal(material, "111122223333", meta["KeyId"], 1, os.urandom(16), os.urandom(12), b"from python", {"who": "py"})
    assert kms.decrypt(CiphertextBlob=mine, EncryptionContext={"who": "py"})["Plaintext"] == b"from python"


@pytest.mark.parametrize("spec", sorted(HMAC_SPECS))
def test_hmac_equals_pythons(server, kms, spec):
    algorithm, digest = HMAC_SPECS[spec]
    meta = kms.create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert meta["MacAlgorithms"] == [algorithm] and "EncryptionAlgorithms" not in meta
    material = unwrap_material(server.data_dir, meta["Arn"])
    assert len(material) == digest().digest_size
    for message in (b"m", b"\x00" * 4096, os.urandom(100)):
        out = kms.generate_mac(KeyId=meta["KeyId"], Message=message, MacAlgorithm=algorithm)
        assert out["Mac"] == hmac.new(material, message, digest).digest()
        assert out["MacAlgorithm"] == algorithm and out["KeyId"] == meta["Arn"]
        verified = kms.verify_mac(KeyId=meta["KeyId"], Message=message, Mac=out["Mac"], MacAlgorithm=algorithm)
        assert verified["MacValid"] is True and verified["KeyId"] == meta["Arn"]
    forged = bytearray(out["Mac"])
    forged[-1] ^= 1
    assert error_code(kms.verify_mac, KeyId=meta["KeyId"], Message=message, Mac=bytes(forged), MacAlgorithm=algorithm) == "KMSInvalidMacException"
    other = "HMAC_SHA_256" if algorithm != "HMAC_SHA_256" else "HMAC_SHA_512"
    assert error_code(kms.generate_mac, KeyId=meta["KeyId"], Message=b"m", MacAlgorithm=other) == "InvalidKeyUsageException"
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"m") == "InvalidKeyUsageException"


def test_hmac_key_errors(kms):
    assert error_code(kms.create_key, KeySpec="HMAC_256") == "ValidationException"  # KeyUsage defaults to ENCRYPT_DECRYPT
    symmetric = kms.create_key()["KeyMetadata"]
    assert error_code(kms.generate_mac, KeyId=symmetric["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256") == "InvalidKeyUsageException"
    meta = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    kms.disable_key(KeyId=meta["KeyId"])
    assert error_code(kms.generate_mac, KeyId=meta["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_384") == "DisabledException"
