"""ML-DSA keys through a real server, checked by Python's `cryptography`."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa

from blobformat import unwrap_material
from conftest import error_code

TYPES = {"ML_DSA_65": mldsa.MLDSA65PublicKey, "ML_DSA_87": mldsa.MLDSA87PublicKey}


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
