"""A test suite as it was written for LocalStack or moto: boto3 with the endpoint and the
credentials test/test from the environment, and a key ID fixed in advance."""
import base64

import boto3

PAYMENTS_KEY = "6f2b7c1e-0d5a-4c3b-9e8f-1a2b3c4d5e6f"


def kms():
    return boto3.client("kms")


def test_envelope_encryption_with_the_fixed_key():
    data_key = kms().generate_data_key(KeyId="alias/payments", KeySpec="AES_256", EncryptionContext={"order": "42"})
    assert data_key["KeyId"].endswith(PAYMENTS_KEY)
    plaintext = kms().decrypt(CiphertextBlob=data_key["CiphertextBlob"], EncryptionContext={"order": "42"})["Plaintext"]
    assert plaintext == data_key["Plaintext"]


def test_the_encryption_context_is_enforced():
    blob = kms().encrypt(KeyId=PAYMENTS_KEY, Plaintext=b"card", EncryptionContext={"order": "42"})["CiphertextBlob"]
    try:
        kms().decrypt(CiphertextBlob=blob, EncryptionContext={"order": "43"})
    except kms().exceptions.InvalidCiphertextException:
        return
    raise AssertionError("decrypted under another encryption context")


def test_signing_key_by_alias():
    signature = kms().sign(KeyId="alias/release-signing", Message=b"release 1.0", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    assert kms().verify(KeyId="alias/release-signing", Message=b"release 1.0", Signature=signature,
                        SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]


def test_the_seeded_tags_and_aliases():
    assert kms().list_resource_tags(KeyId=PAYMENTS_KEY)["Tags"] == [{"TagKey": "team", "TagValue": "payments"}]
    names = {a["AliasName"] for a in kms().list_aliases()["Aliases"]}
    assert {"alias/payments", "alias/release-signing"} <= names


def test_a_ciphertext_made_in_an_earlier_run_still_decrypts():
    # Made by an earlier run of this suite against the same seed: the key's ID and material are fixed.
    assert kms().decrypt(CiphertextBlob=base64.b64decode(EARLIER_RUN))["Plaintext"] == b"kept across runs"


EARLIER_RUN = "AQAxMTExMjIyMjMzMzNvK3weDVpMO56PGis8TV5vAAAAAYWhF3VdH07NR9ONT1WGv5PVKgnqIUgAXhJaPQ6bYpPrUKJW9/SjSFywTrlNJNSVPNcbtVxf06q9VlNXKw=="
