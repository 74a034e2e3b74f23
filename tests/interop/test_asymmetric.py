"""Asymmetric keys through a real server, every result checked by Python's `cryptography` (and
pycryptodome for Ed25519ph, which `cryptography` lacks)."""
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from Crypto.Hash import SHA512
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from blobformat import unwrap_material
from conftest import error_code

HASHES = {"256": (hashes.SHA256(), hashlib.sha256), "384": (hashes.SHA384(), hashlib.sha384), "512": (hashes.SHA512(), hashlib.sha512)}
RSA_ALGORITHMS = [f"RSASSA_{p}_SHA_{n}" for p in ("PSS", "PKCS1_V1_5") for n in ("256", "384", "512")]
SIGNING = {
    "RSA_2048": RSA_ALGORITHMS, "RSA_3072": RSA_ALGORITHMS, "RSA_4096": RSA_ALGORITHMS,
    "ECC_NIST_P256": ["ECDSA_SHA_256"], "ECC_NIST_P384": ["ECDSA_SHA_384"], "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"], "ECC_NIST_EDWARDS25519": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
}
CURVES = {"ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1, "ECC_NIST_P521": ec.SECP521R1, "ECC_SECG_P256K1": ec.SECP256K1}


def independent_verify(public_key, algorithm, message, signature):
    """Raises InvalidSignature unless `cryptography` accepts the signature over `message`."""
    if algorithm == "ED25519_SHA_512":
        public_key.verify(signature, message)
        return
    if algorithm == "ED25519_PH_SHA_512":
        # HashEdDSA over the caller's SHA-512 digest, which it prehashes again (as AWS documents).
        verifier = eddsa.new(eddsa.import_public_key(public_key.public_bytes_raw()), "rfc8032")
        try:
            verifier.verify(SHA512.new(hashlib.sha512(message).digest()), signature)
        except ValueError:
            raise InvalidSignature() from None
        return
    chosen, _ = HASHES[algorithm[-3:]]
    if algorithm.startswith("RSASSA_PSS"):
        public_key.verify(signature, message, padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size), chosen)
    elif algorithm.startswith("RSASSA_PKCS1"):
        public_key.verify(signature, message, padding.PKCS1v15(), chosen)
    else:
        public_key.verify(signature, message, ec.ECDSA(chosen))


@pytest.fixture(scope="module")
def signing_keys(kms):
    return {spec: kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"] for spec in SIGNING}


@pytest.mark.parametrize("spec", sorted(SIGNING))
def test_signatures_verify_with_cryptography(kms, signing_keys, spec):
    meta = signing_keys[spec]
    assert meta["KeySpec"] == spec and meta["KeyUsage"] == "SIGN_VERIFY" and meta["SigningAlgorithms"] == SIGNING[spec]
    assert "EncryptionAlgorithms" not in meta
    out = kms.get_public_key(KeyId=meta["KeyId"])
    assert out["KeySpec"] == spec and out["KeyUsage"] == "SIGN_VERIFY" and out["SigningAlgorithms"] == SIGNING[spec]
    public_key = serialization.load_der_public_key(out["PublicKey"])
    if spec in CURVES:
        assert isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, CURVES[spec])
    elif spec.startswith("RSA"):
        assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == int(spec[4:])
    else:
        assert isinstance(public_key, ed25519.Ed25519PublicKey)
    message = b"sign me, " + spec.encode()
    for algorithm in SIGNING[spec]:
        types = {"ED25519_SHA_512": ["RAW"], "ED25519_PH_SHA_512": ["DIGEST"]}.get(algorithm, ["RAW", "DIGEST"])
        for message_type in types:
            signed = message if message_type == "RAW" else HASHES[algorithm[-3:]][1](message).digest()
            sig = kms.sign(KeyId=meta["KeyId"], Message=signed, MessageType=message_type, SigningAlgorithm=algorithm)
            assert sig["KeyId"] == meta["Arn"] and sig["SigningAlgorithm"] == algorithm
            independent_verify(public_key, algorithm, message, sig["Signature"])  # DIGEST signs the digest, not a hash of it
            with pytest.raises(InvalidSignature):
                independent_verify(public_key, algorithm, message + b"!", sig["Signature"])
            ok = kms.verify(KeyId=meta["KeyId"], Message=signed, MessageType=message_type, Signature=sig["Signature"], SigningAlgorithm=algorithm)
            assert ok["SignatureValid"] is True and ok["KeyId"] == meta["Arn"]
            bad = bytearray(sig["Signature"])
            bad[len(bad) // 2] ^= 1
            assert error_code(kms.verify, KeyId=meta["KeyId"], Message=signed, MessageType=message_type,
                              Signature=bytes(bad), SigningAlgorithm=algorithm) == "KMSInvalidSignatureException"


def test_signature_errors(kms, signing_keys):
    p256 = signing_keys["ECC_NIST_P256"]["KeyId"]
    assert error_code(kms.sign, KeyId=p256, Message=b"m", SigningAlgorithm="ECDSA_SHA_384") == "InvalidKeyUsageException"
    assert error_code(kms.sign, KeyId=p256, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256") == "ValidationException"
    assert error_code(kms.sign, KeyId=signing_keys["ECC_NIST_EDWARDS25519"]["KeyId"], Message=b"x" * 64, MessageType="DIGEST",
                      SigningAlgorithm="ED25519_SHA_512") == "ValidationException"
    edwards = signing_keys["ECC_NIST_EDWARDS25519"]["KeyId"]
    assert error_code(kms.sign, KeyId=edwards, Message=b"m", MessageType="RAW", SigningAlgorithm="ED25519_PH_SHA_512") == "ValidationException"
    assert error_code(kms.sign, KeyId=edwards, Message=b"x" * 32, MessageType="DIGEST", SigningAlgorithm="ED25519_PH_SHA_512") == "ValidationException"
    assert error_code(kms.encrypt, KeyId=p256, Plaintext=b"m") == "InvalidKeyUsageException"
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_code(kms.get_public_key, KeyId=symmetric) == "UnsupportedOperationException"
    assert error_code(kms.sign, KeyId=symmetric, Message=b"m", SigningAlgorithm="ECDSA_SHA_256") == "InvalidKeyUsageException"
    assert error_code(kms.create_key, KeySpec="ECC_NIST_P256") == "ValidationException"  # KeyUsage defaults to ENCRYPT_DECRYPT
    assert error_code(kms.create_key, KeySpec="RSA_2048", KeyUsage="GENERATE_VERIFY_MAC") == "ValidationException"


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "RSA_4096"])
def test_rsa_encryption_both_ways(server, kms, spec):
    meta = kms.create_key(KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    assert meta["EncryptionAlgorithms"] == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] and "SigningAlgorithms" not in meta
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=meta["KeyId"])["PublicKey"])
    private_key = serialization.load_der_private_key(unwrap_material(server.data_dir, meta["Arn"]), password=None)
    assert private_key.public_key().public_numbers() == public_key.public_numbers()
    k = int(spec[4:]) // 8
    for algorithm, chosen in (("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())):
        oaep = padding.OAEP(mgf=padding.MGF1(chosen), algorithm=chosen, label=None)
        limit = k - 2 * chosen.digest_size - 2
        # Encrypted by `cryptography` with the public key, decrypted by the server.
        ciphertext = public_key.encrypt(b"p" * limit, oaep)
        out = kms.decrypt(CiphertextBlob=ciphertext, KeyId=meta["Arn"], EncryptionAlgorithm=algorithm)
        assert out["Plaintext"] == b"p" * limit and out["EncryptionAlgorithm"] == algorithm and out["KeyId"] == meta["Arn"]
        # Encrypted by the server, decrypted by `cryptography` with the private key: bare OAEP output.
        blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"to python", EncryptionAlgorithm=algorithm)["CiphertextBlob"]
        assert len(blob) == k and private_key.decrypt(blob, oaep) == b"to python"
        assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"p" * (limit + 1), EncryptionAlgorithm=algorithm) == "ValidationException"
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"m") == "InvalidKeyUsageException"  # algorithm required
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"m", EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                      EncryptionContext={"a": "b"}) == "ValidationException"
    assert error_code(kms.decrypt, CiphertextBlob=blob) == "InvalidCiphertextException"  # KeyId required
    assert error_code(kms.decrypt, CiphertextBlob=blob, KeyId=meta["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1") == "InvalidCiphertextException"
    assert error_code(kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256") == "InvalidKeyUsageException"


def test_reencrypt_between_symmetric_and_rsa(kms):
    symmetric = kms.create_key()["KeyMetadata"]
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    blob = kms.encrypt(KeyId=symmetric["KeyId"], Plaintext=b"journey", EncryptionContext={"c": "1"})["CiphertextBlob"]
    to_rsa = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"c": "1"}, DestinationKeyId=rsa_key["KeyId"],
                            DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert to_rsa["DestinationEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256" and to_rsa["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    back = kms.re_encrypt(CiphertextBlob=to_rsa["CiphertextBlob"], SourceKeyId=rsa_key["Arn"], SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256",
                          DestinationKeyId=symmetric["KeyId"], DestinationEncryptionContext={"c": "2"})
    assert back["SourceKeyId"] == rsa_key["Arn"] and back["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert kms.decrypt(CiphertextBlob=back["CiphertextBlob"], EncryptionContext={"c": "2"})["Plaintext"] == b"journey"


def test_ed25519ph_signature_made_elsewhere_verifies(server, kms, signing_keys):
    """pycryptodome signs Ed25519ph with the stored private key (unwrapped independently)."""
    meta = signing_keys["ECC_NIST_EDWARDS25519"]
    private_key = ECC.import_key(unwrap_material(server.data_dir, meta["Arn"]))
    digest = hashlib.sha512(b"signed by pycryptodome").digest()
    signature = eddsa.new(private_key, "rfc8032").sign(SHA512.new(digest))
    assert kms.verify(KeyId=meta["KeyId"], Message=digest, MessageType="DIGEST", Signature=signature,
                      SigningAlgorithm="ED25519_PH_SHA_512")["SignatureValid"]
    # Pure Ed25519 over the same bytes is another signature.
    pure = eddsa.new(private_key, "rfc8032").sign(digest)
    assert error_code(kms.verify, KeyId=meta["KeyId"], Message=digest, MessageType="DIGEST", Signature=pure,
                      SigningAlgorithm="ED25519_PH_SHA_512") == "KMSInvalidSignatureException"
