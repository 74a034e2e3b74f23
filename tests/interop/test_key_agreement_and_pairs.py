"""ECDH key agreement and data key pairs, checked by Python's `cryptography`."""
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from conftest import error_code

CURVES = {"ECC_NIST_P256": ec.SECP256R1(), "ECC_NIST_P384": ec.SECP384R1(), "ECC_NIST_P521": ec.SECP521R1()}
PAIR_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"]


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", sorted(CURVES))
def test_shared_secret_equals_cryptographys_ecdh(kms, spec):
    meta = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"] and "SigningAlgorithms" not in meta
    published = kms.get_public_key(KeyId=meta["KeyId"])
    assert published["KeyAgreementAlgorithms"] == ["ECDH"] and published["KeyUsage"] == "KEY_AGREEMENT"
    kms_public = serialization.load_der_public_key(published["PublicKey"])
    for _ in range(3):
        peer = ec.generate_private_key(CURVES[spec])
        out = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki(peer.public_key()))
        assert out["SharedSecret"] == peer.exchange(ec.ECDH(), kms_public)
        assert out["KeyId"] == meta["Arn"] and out["KeyAgreementAlgorithm"] == "ECDH" and out["KeyOrigin"] == "AWS_KMS"
    other_curve = ec.generate_private_key(ec.SECP384R1() if spec != "ECC_NIST_P384" else ec.SECP256R1())
    assert error_code(kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki(other_curve.public_key())) == "ValidationException"
    edwards = ed25519.Ed25519PrivateKey.generate().public_key()
    assert error_code(kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=spki(edwards)) == "ValidationException"
    assert error_code(kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=b"\x30\x03\x02\x01\x01") == "ValidationException"
    assert error_code(kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256") == "InvalidKeyUsageException"


def test_key_agreement_errors(kms):
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    peer = spki(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert error_code(kms.derive_shared_secret, KeyId=signing, KeyAgreementAlgorithm="ECDH", PublicKey=peer) == "InvalidKeyUsageException"
    assert error_code(kms.create_key, KeySpec="ECC_SECG_P256K1", KeyUsage="KEY_AGREEMENT") == "ValidationException"
    assert error_code(kms.create_key, KeySpec="RSA_2048", KeyUsage="KEY_AGREEMENT") == "ValidationException"


@pytest.mark.parametrize("spec", PAIR_SPECS)
def test_data_key_pairs(kms, spec):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    out = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec=spec, EncryptionContext={"pair": spec})
    assert out["KeyPairSpec"] == spec and out["KeyId"].endswith(key_id)
    private_key = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)  # PKCS#8
    assert spki(private_key.public_key()) == out["PublicKey"]
    assert serialization.load_der_public_key(out["PublicKey"])
    # The private key is recoverable with Decrypt and the same encryption context only.
    assert kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"pair": spec})["Plaintext"] == out["PrivateKeyPlaintext"]
    assert error_code(kms.decrypt, CiphertextBlob=out["PrivateKeyCiphertextBlob"]) == "InvalidCiphertextException"
    if isinstance(private_key, rsa.RSAPrivateKey):
        assert private_key.key_size == int(spec[4:])
        private_key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        private_key.public_key().verify(private_key.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m", ec.ECDSA(hashes.SHA256()))
    bare = kms.generate_data_key_pair_without_plaintext(KeyId=key_id, KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in bare and bare["KeyPairSpec"] == spec
    recovered = serialization.load_der_private_key(kms.decrypt(CiphertextBlob=bare["PrivateKeyCiphertextBlob"])["Plaintext"], password=None)
    assert spki(recovered.public_key()) == bare["PublicKey"]


def test_data_key_pair_errors(kms):
    rsa_key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    assert error_code(kms.generate_data_key_pair, KeyId=rsa_key, KeyPairSpec="ECC_NIST_P256") == "InvalidKeyUsageException"
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_code(kms.generate_data_key_pair, KeyId=symmetric, KeyPairSpec="ECC_NIST_P256", DryRun=True) == "DryRunOperationException"
