"""The errors every key operation shares, provoked operation by operation from AWS's model:
for each operation whose model lists the error, a request made to raise it must be answered
with it. Together with the rest of the run, `test_zz_errors.py` then checks that every error
code of every operation was provoked at least once."""
import json
import os
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import ACCOUNT, ROOT

MODEL = json.load(open(os.path.join(ROOT, "spec", "kms-2014-11-01.service.json")))
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
PEER = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def errors_of(operation):
    return {e["shape"] for e in MODEL["operations"][operation].get("errors", [])}


def members_of(operation):
    shape = MODEL["operations"][operation].get("input")
    return set(MODEL["shapes"][shape["shape"]]["members"]) if shape else set()


class Keys:
    """One key of each kind, in each state the errors need."""

    def __init__(self, kms):
        def make(**kwargs):
            return kms.create_key(**kwargs)["KeyMetadata"]["KeyId"]
        self.kinds = {
            "symmetric": {}, "hmac": {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
            "sign": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
            "agreement": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"},
            "external": {"Origin": "EXTERNAL"}, "multiRegion": {"MultiRegion": True},
        }
        self.enabled = {kind: make(**args) for kind, args in self.kinds.items()}
        # A key awaiting its imported material cannot be disabled.
        self.disabled = {kind: make(**args) for kind, args in self.kinds.items() if kind != "external"}
        self.pending = {kind: make(**args) for kind, args in self.kinds.items()}
        # Each symmetric key's own ciphertext: Decrypt checks the key match before the state.
        self.blobs = {key: kms.encrypt(KeyId=key, Plaintext=b"matrix")["CiphertextBlob"]
                      for key in (self.enabled["symmetric"], self.disabled["symmetric"], self.pending["symmetric"])}
        # A primary with a replica where UpdatePrimaryRegion would move it.
        kms.replicate_key(KeyId=self.pending["multiRegion"], ReplicaRegion="eu-west-1")
        for key in self.disabled.values():
            kms.disable_key(KeyId=key)
        for key in self.pending.values():
            kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
        self.blob = kms.encrypt(KeyId=self.enabled["symmetric"], Plaintext=b"matrix")["CiphertextBlob"]
        self.mac = kms.generate_mac(KeyId=self.enabled["hmac"], Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        self.signature = kms.sign(KeyId=self.enabled["sign"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]


# Each key operation: the kind of key it needs, and the rest of a valid request.
CALLS = {
    "CancelKeyDeletion": ("symmetric", lambda k, key: {"KeyId": key}),
    "CreateGrant": ("symmetric", lambda k, key: {"KeyId": key, "GranteePrincipal": ROOT_ARN, "Operations": ["Decrypt"]}),
    "Decrypt": ("symmetric", lambda k, key: {"KeyId": key, "CiphertextBlob": k.blobs.get(key, k.blob)}),
    "DeleteImportedKeyMaterial": ("external", lambda k, key: {"KeyId": key}),
    "DeriveSharedSecret": ("agreement", lambda k, key: {"KeyId": key, "KeyAgreementAlgorithm": "ECDH", "PublicKey": PEER}),
    "DescribeKey": ("symmetric", lambda k, key: {"KeyId": key}),
    "DisableKey": ("symmetric", lambda k, key: {"KeyId": key}),
    "DisableKeyRotation": ("symmetric", lambda k, key: {"KeyId": key}),
    "EnableKey": ("symmetric", lambda k, key: {"KeyId": key}),
    "EnableKeyRotation": ("symmetric", lambda k, key: {"KeyId": key}),
    "Encrypt": ("symmetric", lambda k, key: {"KeyId": key, "Plaintext": b"x"}),
    "GenerateDataKey": ("symmetric", lambda k, key: {"KeyId": key, "KeySpec": "AES_256"}),
    "GenerateDataKeyWithoutPlaintext": ("symmetric", lambda k, key: {"KeyId": key, "KeySpec": "AES_256"}),
    "GenerateDataKeyPair": ("symmetric", lambda k, key: {"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
    "GenerateDataKeyPairWithoutPlaintext": ("symmetric", lambda k, key: {"KeyId": key, "KeyPairSpec": "ECC_NIST_P256"}),
    "GenerateMac": ("hmac", lambda k, key: {"KeyId": key, "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"}),
    "VerifyMac": ("hmac", lambda k, key: {"KeyId": key, "Message": b"m", "MacAlgorithm": "HMAC_SHA_256", "Mac": k.mac}),
    "Sign": ("sign", lambda k, key: {"KeyId": key, "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"}),
    "Verify": ("sign", lambda k, key: {"KeyId": key, "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256", "Signature": k.signature}),
    "GetKeyLastUsage": ("symmetric", lambda k, key: {"KeyId": key}),
    "GetKeyPolicy": ("symmetric", lambda k, key: {"KeyId": key}),
    "GetKeyRotationStatus": ("symmetric", lambda k, key: {"KeyId": key}),
    "GetParametersForImport": ("external", lambda k, key: {"KeyId": key, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}),
    "GetPublicKey": ("sign", lambda k, key: {"KeyId": key}),
    "ListAliases": ("symmetric", lambda k, key: {"KeyId": key}),
    "ListGrants": ("symmetric", lambda k, key: {"KeyId": key}),
    "ListKeyPolicies": ("symmetric", lambda k, key: {"KeyId": key}),
    "ListKeyRotations": ("symmetric", lambda k, key: {"KeyId": key}),
    "ListResourceTags": ("symmetric", lambda k, key: {"KeyId": key}),
    "PutKeyPolicy": ("symmetric", lambda k, key: {"KeyId": key, "Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*", "Resource": "*"}]})}),
    "ReEncrypt": ("symmetric", lambda k, key: {"CiphertextBlob": k.blob, "SourceKeyId": key, "DestinationKeyId": key}),
    "ReplicateKey": ("multiRegion", lambda k, key: {"KeyId": key, "ReplicaRegion": "eu-west-1"}),
    "RotateKeyOnDemand": ("symmetric", lambda k, key: {"KeyId": key}),
    "ScheduleKeyDeletion": ("symmetric", lambda k, key: {"KeyId": key, "PendingWindowInDays": 7}),
    "TagResource": ("symmetric", lambda k, key: {"KeyId": key, "Tags": [{"TagKey": "k", "TagValue": "v"}]}),
    "UntagResource": ("symmetric", lambda k, key: {"KeyId": key, "TagKeys": ["k"]}),
    "UpdateKeyDescription": ("symmetric", lambda k, key: {"KeyId": key, "Description": "d"}),
    "UpdatePrimaryRegion": ("multiRegion", lambda k, key: {"KeyId": key, "PrimaryRegion": "eu-west-1"}),
}


def snake(operation):
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def answer(kms, operation, request):
    """The error code of the call, or None when it succeeded."""
    from botocore.exceptions import ClientError
    try:
        getattr(kms, snake(operation))(**request)
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


@pytest.fixture(scope="module")
def keys(kms):
    return Keys(kms)


def cases(error, unless=()):
    return sorted(op for op in CALLS if error in errors_of(op) and op not in unless)


# What AWS's key-state table (KeyLifecycle) allows in that state, although the model lists the
# error for the operation: `test_zz_errors.py` names these as never raised.
ALLOWED_PENDING_DELETION = {"DeleteImportedKeyMaterial", "GetKeyPolicy", "GetKeyRotationStatus", "ListGrants", "ListKeyPolicies",
                            "ListKeyRotations", "PutKeyPolicy", "CancelKeyDeletion", "DeleteAlias", "RetireGrant", "RevokeGrant"}
ALLOWED_DISABLED = {"UpdatePrimaryRegion"}


@pytest.mark.parametrize("operation", cases("NotFoundException"))
def test_a_key_that_does_not_exist(kms, keys, operation):
    kind, build = CALLS[operation]
    request = build(keys, str(uuid.uuid4()))
    if operation == "Decrypt":
        request["KeyId"] = str(uuid.uuid4())
    assert answer(kms, operation, request) in ("NotFoundException", "IncorrectKeyException" if operation == "Decrypt" else None)
    if operation == "Decrypt":
        assert answer(kms, operation, {"CiphertextBlob": keys.blob, "KeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{uuid.uuid4()}"}) \
            in ("NotFoundException", "IncorrectKeyException")


@pytest.mark.parametrize("operation", cases("InvalidArnException"))
def test_a_key_arn_that_is_not_one(kms, keys, operation):
    kind, build = CALLS[operation]
    assert answer(kms, operation, build(keys, f"arn:aws:kms:us-east-1:{ACCOUNT}:key")) == "InvalidArnException"


@pytest.mark.parametrize("operation", cases("KMSInvalidStateException", unless=ALLOWED_PENDING_DELETION))
def test_a_key_pending_deletion(kms, keys, operation):
    kind, build = CALLS[operation]
    assert answer(kms, operation, build(keys, keys.pending[kind])) == "KMSInvalidStateException"


@pytest.mark.parametrize("operation", cases("DisabledException", unless=ALLOWED_DISABLED))
def test_a_disabled_key(kms, keys, operation):
    kind, build = CALLS[operation]
    if kind not in keys.disabled:
        pytest.skip("a key awaiting its imported material cannot be disabled")
    assert answer(kms, operation, build(keys, keys.disabled[kind])) == "DisabledException"


@pytest.mark.parametrize("operation", cases("InvalidGrantTokenException"))
def test_a_grant_token_that_is_not_one(kms, keys, operation):
    kind, build = CALLS[operation]
    assert answer(kms, operation, dict(build(keys, keys.enabled[kind]), GrantTokens=["not-a-grant-token"])) == "InvalidGrantTokenException"


@pytest.mark.parametrize("operation", cases("DryRunOperationException"))
def test_a_dry_run(kms, keys, operation):
    kind, build = CALLS[operation]
    assert answer(kms, operation, dict(build(keys, keys.enabled[kind]), DryRun=True)) == "DryRunOperationException"


@pytest.mark.parametrize("operation", cases("InvalidMarkerException"))
def test_a_marker_that_is_not_one(kms, keys, operation):
    kind, build = CALLS[operation]
    assert answer(kms, operation, dict(build(keys, keys.enabled[kind]), Marker="not-a-marker")) == "InvalidMarkerException"


def test_cancelling_the_deletion_of_a_key_not_pending_deletion(kms, keys):
    assert answer(kms, "CancelKeyDeletion", {"KeyId": keys.enabled["symmetric"]}) == "KMSInvalidStateException"


STORE = "cks-0123456789abcdef0"
BAD_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key"
GRANT_ID = "0" * 64


def one_of_a_kind(kms, keys):
    """The errors of one or a few operations each: (operation, request, error)."""
    symmetric, hmac, sign = keys.enabled["symmetric"], keys.enabled["hmac"], keys.enabled["sign"]
    grant = kms.create_grant(KeyId=symmetric, GranteePrincipal=ROOT_ARN, Operations=["Decrypt"])["GrantId"]
    kms.create_alias(AliasName=f"alias/matrix-{uuid.uuid4()}", TargetKeyId=symmetric)
    alias = next(a["AliasName"] for a in kms.list_aliases(KeyId=symmetric)["Aliases"])
    import_args = {"ImportToken": b"t" * 32, "EncryptedKeyMaterial": b"m" * 256, "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}
    return [
        ("CreateKey", {"CustomKeyStoreId": STORE, "Origin": "AWS_CLOUDHSM"}, "CustomKeyStoreNotFoundException"),
        ("DeleteCustomKeyStore", {"CustomKeyStoreId": STORE}, "CustomKeyStoreNotFoundException"),
        ("DisconnectCustomKeyStore", {"CustomKeyStoreId": STORE}, "CustomKeyStoreNotFoundException"),
        ("GenerateRandom", {"NumberOfBytes": 8, "CustomKeyStoreId": STORE}, "CustomKeyStoreNotFoundException"),
        ("UpdateCustomKeyStore", {"CustomKeyStoreId": STORE, "NewCustomKeyStoreName": "renamed"}, "CustomKeyStoreNotFoundException"),
        ("ListGrants", {"KeyId": symmetric, "GrantId": "not-a-grant-id"}, "InvalidGrantIdException"),
        ("RetireGrant", {"KeyId": symmetric, "GrantId": "not-a-grant-id"}, "InvalidGrantIdException"),
        ("RevokeGrant", {"KeyId": symmetric, "GrantId": "not-a-grant-id"}, "InvalidGrantIdException"),
        ("RevokeGrant", {"KeyId": symmetric, "GrantId": grant, "DryRun": True}, "DryRunOperationException"),
        ("RevokeGrant", {"KeyId": symmetric, "GrantId": GRANT_ID}, "NotFoundException"),
        ("RevokeGrant", {"KeyId": BAD_ARN, "GrantId": grant}, "InvalidArnException"),
        ("RetireGrant", {"KeyId": BAD_ARN, "GrantId": grant}, "InvalidArnException"),
        ("RetireGrant", {"GrantToken": "not-a-grant-token"}, "InvalidGrantTokenException"),
        ("ListRetirableGrants", {"RetiringPrincipal": "arn:aws:iam::not-an-account:user/x"}, "InvalidArnException"),
        ("ListRetirableGrants", {"RetiringPrincipal": ROOT_ARN, "Marker": "not-a-marker"}, "InvalidMarkerException"),
        ("CreateAlias", {"AliasName": f"alias/matrix-{uuid.uuid4()}", "TargetKeyId": str(uuid.uuid4())}, "NotFoundException"),
        ("UpdateAlias", {"AliasName": alias, "TargetKeyId": keys.pending["symmetric"]}, "KMSInvalidStateException"),
        ("ImportKeyMaterial", dict(import_args, KeyId=str(uuid.uuid4())), "NotFoundException"),
        ("ImportKeyMaterial", dict(import_args, KeyId=BAD_ARN), "InvalidArnException"),
        ("ImportKeyMaterial", dict(import_args, KeyId=keys.pending["external"]), "KMSInvalidStateException"),
        ("ImportKeyMaterial", dict(import_args, KeyId=symmetric), "UnsupportedOperationException"),
        ("GenerateDataKeyWithoutPlaintext", {"KeyId": hmac, "KeySpec": "AES_256"}, "InvalidKeyUsageException"),
        ("GenerateDataKeyPairWithoutPlaintext", {"KeyId": hmac, "KeyPairSpec": "ECC_NIST_P256"}, "InvalidKeyUsageException"),
        ("GenerateDataKeyPairWithoutPlaintext", {"KeyId": symmetric, "KeyPairSpec": "SM2"}, "UnsupportedOperationException"),
        ("Verify", {"KeyId": symmetric, "Message": b"m", "Signature": b"s" * 64, "SigningAlgorithm": "ECDSA_SHA_256"}, "InvalidKeyUsageException"),
        ("VerifyMac", {"KeyId": sign, "Message": b"m", "Mac": b"m" * 32, "MacAlgorithm": "HMAC_SHA_256"}, "InvalidKeyUsageException"),
        ("TagResource", {"KeyId": symmetric, "Tags": [{"TagKey": "aws:reserved", "TagValue": "v"}]}, "TagException"),
        ("DisableKeyRotation", {"KeyId": sign}, "UnsupportedOperationException"),
        ("GetKeyRotationStatus", {"KeyId": sign}, "UnsupportedOperationException"),
        ("ListKeyRotations", {"KeyId": sign}, "UnsupportedOperationException"),
        ("UpdatePrimaryRegion", {"KeyId": symmetric, "PrimaryRegion": "eu-west-1"}, "UnsupportedOperationException"),
        ("ReEncrypt", {"CiphertextBlob": b"\x01" * 80, "DestinationKeyId": symmetric}, "InvalidCiphertextException"),
        ("ReplicateKey", {"KeyId": keys.enabled["multiRegion"], "ReplicaRegion": "ap-south-1", "Policy": "not a policy"},
         "MalformedPolicyDocumentException"),
    ]


def test_errors_of_one_operation_or_a_few(kms, keys):
    wrong = [(operation, request, expected, got) for operation, request, expected in one_of_a_kind(kms, keys)
             if (got := answer(kms, operation, request)) != expected]
    assert wrong == [], "\n".join(f"{o}: {e} expected, {g} answered" for o, r, e, g in wrong)
