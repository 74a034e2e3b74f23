"""Answers compared with recorded AWS KMS responses (issue 24, "Errors as AWS sends them"): one
test per difference found, each asserting what AWS sends."""

import base64
import json
import os
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_code
from test_import import import_material


def failure(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_an_error_without_a_message_has_no_message_member(server):
    status, _, body = server.raw("TrentService.Decrypt", json.dumps({"CiphertextBlob": base64.b64encode(os.urandom(80)).decode()}).encode())
    assert status == 400 and body == {"__type": "InvalidCiphertextException"}
    status, _, body = server.raw("TrentService.NoSuchOperation", b"{}")
    assert status == 400 and body == {"__type": "UnknownOperationException"}
    # Errors with a message keep it.
    status, _, body = server.raw("TrentService.DescribeKey", b"{}")
    assert body["__type"] == "ValidationException" and body["message"]


def test_expiration_model_only_while_imported_material_is_there(kms):
    key_id = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    assert "ExpirationModel" not in kms.describe_key(KeyId=key_id)["KeyMetadata"]
    import_material(kms, key_id, os.urandom(32))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    kms.delete_imported_key_material(KeyId=key_id)
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["KeyState"] == "PendingImport" and "ExpirationModel" not in described
    # Keys of other origins never have one.
    assert "ExpirationModel" not in kms.create_key()["KeyMetadata"]


def test_tag_errors_and_their_words(kms):
    too_many = [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]
    assert failure(kms.create_key, Tags=too_many) == ("TagException", "Too many tags")
    assert failure(kms.create_key, Tags=[{"TagKey": "aws:owner", "TagValue": "v"}]) == (
        "TagException", "Tags beginning with aws: are reserved")
    assert failure(kms.create_key, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "a", "TagValue": "2"}]) == (
        "TagException", "Duplicate tag keys")
    key_id = kms.create_key(Tags=too_many[:50])["KeyMetadata"]["KeyId"]
    # No request removes a reserved tag either; keys the key lacks are no error.
    assert failure(kms.untag_resource, KeyId=key_id, TagKeys=["k1", "AWS:owner"]) == ("TagException", "Tags beginning with aws: are reserved")
    assert len(kms.list_resource_tags(KeyId=key_id)["Tags"]) == 50
    kms.untag_resource(KeyId=key_id, TagKeys=["k1", "not-a-tag-of-it"])
    assert len(kms.list_resource_tags(KeyId=key_id)["Tags"]) == 49


def test_replicate_key_tags(kms):
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    out = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-2")
    assert "ReplicaTags" not in out
    out = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-3", Tags=[{"TagKey": "site", "TagValue": "paris"}])
    assert out["ReplicaTags"] == [{"TagKey": "site", "TagValue": "paris"}]
    too_many = [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(51)]
    assert failure(kms.replicate_key, KeyId=primary["KeyId"], ReplicaRegion="ca-central-1", Tags=too_many) == (
        "TagException", "Too many tags")


def test_the_key_match_comes_before_the_key_usage(kms):
    blob = kms.encrypt(KeyId=kms.create_key()["KeyMetadata"]["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    words = "The key ID in the request does not identify a CMK that can perform this operation."
    for spec, usage in (("HMAC_256", "GENERATE_VERIFY_MAC"), ("ECC_NIST_P256", "SIGN_VERIFY"), ("ECC_NIST_P256", "KEY_AGREEMENT")):
        other = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
        assert failure(kms.decrypt, CiphertextBlob=blob, KeyId=other) == ("IncorrectKeyException", words)
        assert failure(kms.re_encrypt, CiphertextBlob=blob, SourceKeyId=other,
                       DestinationKeyId=kms.create_key()["KeyMetadata"]["KeyId"]) == ("IncorrectKeyException", words)
    # A key that cannot decrypt and is the blob's own key is still refused for its usage.
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    assert error_code(kms.decrypt, CiphertextBlob=b"\x00" * 80, KeyId=hmac_key) == "InvalidKeyUsageException"


def test_key_usage_is_required_except_for_symmetric_encryption_keys(kms):
    assert failure(kms.create_key, KeySpec="RSA_2048") == (
        "ValidationException", "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
    assert failure(kms.create_key, KeySpec="HMAC_256")[0] == "ValidationException"
    assert kms.create_key(KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyUsage"] == "ENCRYPT_DECRYPT"


def test_messages_in_aws_words(kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    assert failure(kms.encrypt, KeyId=rsa, Plaintext=os.urandom(215), EncryptionAlgorithm="RSAES_OAEP_SHA_1") == (
        "ValidationException", "Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data larger than 214 bytes.")
    assert kms.encrypt(KeyId=rsa, Plaintext=os.urandom(214), EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    hmac_224 = kms.create_key(KeySpec="HMAC_224", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    assert failure(kms.generate_mac, KeyId=hmac_224, Message=b"m", MacAlgorithm="HMAC_SHA_256") == (
        "InvalidKeyUsageException", "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.")


def test_messages_recorded_from_aws(kms):
    """Messages of real AWS KMS responses, as public recordings show them (LocalStack's snapshot
    tests of AWS, 2023-2024): each answered here in the same words."""
    symmetric = kms.create_key()["KeyMetadata"]["Arn"]
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["Arn"]
    other_region = symmetric.replace(":us-east-1:", ":ap-southeast-1:")
    deleted = kms.create_key()["KeyMetadata"]["Arn"]
    kms.schedule_key_deletion(KeyId=deleted, PendingWindowInDays=7)
    token = kms.get_parameters_for_import(KeyId=external, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")["ImportToken"]
    expected = [
        (kms.generate_random, {}, "ValidationException", "NumberOfBytes is required."),
        (kms.describe_key, {"KeyId": "fake-key-id"}, "NotFoundException", "Invalid keyId 'fake-key-id'"),
        (kms.describe_key, {"KeyId": other_region}, "NotFoundException", "Invalid arn ap-southeast-1"),
        (kms.describe_key, {"KeyId": symmetric[:-4] + "0000"}, "NotFoundException", f"Key '{symmetric[:-4]}0000' does not exist"),
        (kms.sign, {"KeyId": signing, "Message": b"0123456789", "MessageType": "DIGEST", "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
         "ValidationException", "Digest is invalid length for algorithm RSASSA_PSS_SHA_256."),
        (kms.generate_mac, {"KeyId": symmetric, "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"},
         "InvalidKeyUsageException", f"{symmetric} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac."),
        (kms.sign, {"KeyId": hmac_key, "Message": b"m", "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
         "InvalidKeyUsageException", f"{hmac_key} key usage is GENERATE_VERIFY_MAC which is not valid for Sign."),
        (kms.encrypt, {"KeyId": signing, "Plaintext": b"m"},
         "InvalidKeyUsageException", f"{signing} key usage is SIGN_VERIFY which is not valid for Encrypt."),
        (kms.encrypt, {"KeyId": external, "Plaintext": b"m"}, "KMSInvalidStateException", f"{external} is pending import."),
        (kms.schedule_key_deletion, {"KeyId": deleted}, "KMSInvalidStateException", f"{deleted} is pending deletion."),
        (kms.get_parameters_for_import, {"KeyId": symmetric, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
         "UnsupportedOperationException", f"{symmetric} origin is AWS_KMS which is not valid for this operation."),
        (kms.import_key_material, {"KeyId": external, "ImportToken": token, "EncryptedKeyMaterial": b"m" * 256,
                                   "ExpirationModel": "KEY_MATERIAL_EXPIRES"},
         "ValidationException", "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"),
    ]
    assert [failure(call, **request) for call, request, _, _ in expected] == [(code, message) for _, _, code, message in expected]


def test_messages_quoted_from_aws_in_public_reports(server, kms):
    """Messages of real AWS KMS answers that users quoted in public issue threads (named in
    docs/error-wording.md), answered here in the same words."""
    alias_arn = kms.create_key()["KeyMetadata"]["Arn"].split(":key/")[0] + ":alias/no-such-alias"
    assert failure(kms.describe_key, KeyId=alias_arn) == ("NotFoundException", f"Alias {alias_arn} is not found.")
    rsa = kms.create_key(KeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    assert failure(kms.encrypt, KeyId=rsa, Plaintext=b"m") == (
        "InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096.")
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert failure(kms.sign, KeyId=ecc, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256") == (
        "InvalidKeyUsageException", "Algorithm RSASSA_PSS_SHA_256 is incompatible with key spec ECC_NIST_P256.")
    # A request signed 20 minutes ago: AWS's words, with the server's clock in them.
    stale = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 1200))
    status, _, body = server.raw("TrentService.ListKeys", b"{}", amz_date=stale)
    assert status == 400 and body["__type"] == "InvalidSignatureException"
    assert re.fullmatch(rf"Signature expired: {stale} is now earlier than \d{{8}}T\d{{6}}Z \(\d{{8}}T\d{{6}}Z - 15 min\.\)", body["message"])
