"""ML-DSA keys through a real server, checked by Python's `cryptography`."""
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa

from blobformat import unwrap_material
from conftest import error_code

TYPES = {"ML_DSA_44": mldsa.MLDSA44PublicKey, "ML_DSA_65": mldsa.MLDSA65PublicKey, "ML_DSA_87": mldsa.MLDSA87PublicKey}


@pytest.mark.parametrize("spec", sorted(TYPES))
def test_mldsa_signatures_both_ways(server, kms, spec):
    meta = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert meta["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"]
    published = kms.get_public_key(KeyId=meta["KeyId"])
    public_key = serialization.load_der_public_key(published["PublicKey"])
    assert isinstance(public_key, TYPES[spec]) and published["SigningAlgorithms"] == ["ML_DSA_SHAKE_256"]
    for message in (b"m", b"\xff" * 4096):
        signature = kms.sign(KeyId=meta["KeyId"], Message=message, MessageType="RAW", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
        public_key.verify(signature, message)
        assert kms.verify(KeyId=meta["KeyId"], Message=message, Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]
    # The stored private key (PKCS#8 seed form) read independently: its signatures verify through the server.
    private_key = serialization.load_der_private_key(unwrap_material(server.data_dir, meta["Arn"]), password=None)
    assert private_key.public_key().public_bytes_raw() == public_key.public_bytes_raw()
    theirs = private_key.sign(b"signed by python")
    assert kms.verify(KeyId=meta["KeyId"], Message=b"signed by python", Signature=theirs, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]
    assert error_code(kms.verify, KeyId=meta["KeyId"], Message=b"signed by pythom", Signature=theirs,
                      SigningAlgorithm="ML_DSA_SHAKE_256") == "KMSInvalidSignatureException"
    assert error_code(kms.sign, KeyId=meta["KeyId"], Message=b"x" * 64, MessageType="DIGEST", SigningAlgorithm="ML_DSA_SHAKE_256") == "ValidationException"
    assert error_code(kms.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256") == "InvalidKeyUsageException"


def external_mu(public_key, message):
    """FIPS 204 §6.2 / Algorithm 7 line 6 for pure ML-DSA with the empty context:
    μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64)."""
    tr = hashlib.shake_256(public_key.public_bytes_raw()).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize("spec", sorted(TYPES))
def test_mldsa_external_mu(kms, spec):
    key_id = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])
    message = b"a message too large to send, represented by mu"
    mu = external_mu(public_key, message)
    signature = kms.sign(KeyId=key_id, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    public_key.verify(signature, message)  # an ordinary ML-DSA signature of the message
    assert kms.verify(KeyId=key_id, Message=message, Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]
    assert error_code(kms.verify, KeyId=key_id, Message=mu, MessageType="EXTERNAL_MU", Signature=signature,
                      SigningAlgorithm="ML_DSA_SHAKE_256") == "UnsupportedOperationException"
    assert error_code(kms.sign, KeyId=key_id, Message=mu[:63], MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256") == "ValidationException"
    ecdsa = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert error_code(kms.sign, KeyId=ecdsa, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ECDSA_SHA_256") == "ValidationException"
