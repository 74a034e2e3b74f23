"""Every error of the foundation issue, checked by its __type as boto3 reports it."""
import json

import pytest

from conftest import error_code


def key(kms):
    return kms.create_key()["KeyMetadata"]


def test_not_found_and_invalid_arn(kms):
    missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert error_code(kms.describe_key, KeyId=missing) == "NotFoundException"
    assert error_code(kms.encrypt, KeyId="alias/none", Plaintext=b"x") == "NotFoundException"
    assert error_code(kms.describe_key, KeyId="arn:aws:kms:us-east-1:111122223333:grant/x") == "InvalidArnException"
    assert error_code(kms.enable_key, KeyId="alias/none") == "NotFoundException"
    assert error_code(kms.delete_alias, AliasName="alias/none") == "NotFoundException"


def test_key_state_errors(kms):
    meta = key(kms)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=meta["KeyId"])
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x") == "DisabledException"
    assert error_code(kms.decrypt, CiphertextBlob=blob) == "DisabledException"
    assert error_code(kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256") == "DisabledException"
    kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x") == "KMSInvalidStateException"
    assert error_code(kms.enable_key, KeyId=meta["KeyId"]) == "KMSInvalidStateException"
    assert error_code(kms.schedule_key_deletion, KeyId=meta["KeyId"]) == "KMSInvalidStateException"
    assert error_code(kms.create_alias, AliasName="alias/doomed", TargetKeyId=meta["KeyId"]) == "KMSInvalidStateException"
    assert error_code(kms.tag_resource, KeyId=meta["KeyId"], Tags=[{"TagKey": "a", "TagValue": "b"}]) == "KMSInvalidStateException"
    kms.cancel_key_deletion(KeyId=meta["KeyId"])
    assert error_code(kms.cancel_key_deletion, KeyId=meta["KeyId"]) == "KMSInvalidStateException"


def test_bad_ciphertexts_are_all_one_error(kms):
    meta = key(kms)
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"secret", EncryptionContext={"a": "1"})["CiphertextBlob"]
    tampered = [blob[:i] + bytes([blob[i] ^ 1]) + blob[i + 1:] for i in (0, 1, 5, 33, 40, 55, 70, len(blob) - 1)]
    for bad in tampered + [blob[:-1], blob + b"\0", b"\x01" * 100]:
        assert error_code(kms.decrypt, CiphertextBlob=bad, EncryptionContext={"a": "1"}) == "InvalidCiphertextException"
    for context in ({}, {"a": "2"}, {"a": "1", "b": "2"}, {"A": "1"}):
        assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext=context) == "InvalidCiphertextException"
    other = key(kms)
    assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"a": "1"}, KeyId=other["KeyId"]) == "IncorrectKeyException"


def test_alias_errors(kms):
    meta = key(kms)
    kms.create_alias(AliasName="alias/taken", TargetKeyId=meta["KeyId"])
    assert error_code(kms.create_alias, AliasName="alias/taken", TargetKeyId=meta["KeyId"]) == "AlreadyExistsException"
    assert error_code(kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=meta["KeyId"]) == "InvalidAliasNameException"
    # As AWS: a name outside alias/ is a ValidationException (only alias/aws/ is InvalidAliasNameException).
    assert error_code(kms.create_alias, AliasName="noprefix", TargetKeyId=meta["KeyId"]) == "ValidationException"
    assert error_code(kms.update_alias, AliasName="alias/absent", TargetKeyId=meta["KeyId"]) == "NotFoundException"


def test_usage_algorithm_and_option_errors(kms):
    meta = key(kms)
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256") == "InvalidKeyUsageException"
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x", DryRun=True) == "DryRunOperationException"
    assert error_code(kms.create_key, KeyUsage="SIGN_VERIFY") == "ValidationException"
    assert error_code(kms.create_key, Policy="not json") == "MalformedPolicyDocumentException"
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
    for broken in ({k: v for k, v in statement.items() if k != "Resource"}, {**statement, "Principal": {"AWS": "alice"}},
                   {**statement, "Condition": {"StringEqualz": {"kms:CallerAccount": "111122223333"}}}, {**statement, "Effect": "Permit"}):
        assert error_code(kms.create_key, Policy=json.dumps({"Version": "2012-10-17", "Statement": [broken]})) == "MalformedPolicyDocumentException"
    assert kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))["KeyMetadata"]["Enabled"]
    assert error_code(kms.create_key, Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}]) == "TagException"
    assert error_code(kms.generate_data_key, KeyId=meta["KeyId"]) == "ValidationException"
    assert error_code(kms.generate_data_key, KeyId=meta["KeyId"], KeySpec="AES_256", NumberOfBytes=32) == "ValidationException"
    assert error_code(kms.schedule_key_deletion, KeyId=meta["KeyId"], PendingWindowInDays=6) == "ValidationException"
    assert error_code(kms.list_keys, Marker="not-a-marker!") == "InvalidMarkerException"
    tags = [{"TagKey": f"t{i}", "TagValue": ""} for i in range(50)]
    kms.tag_resource(KeyId=meta["KeyId"], Tags=tags)
    assert error_code(kms.tag_resource, KeyId=meta["KeyId"], Tags=[{"TagKey": "t50", "TagValue": ""}]) == "LimitExceededException"


def test_model_constraints_are_validation_errors(kms_raw):
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as info:
        kms_raw.encrypt(KeyId="alias/x", Plaintext=b"a" * 4097)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["Error"]["Message"] == (
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096")
    assert error_code(kms_raw.generate_random, NumberOfBytes=1025) == "ValidationException"
    assert error_code(kms_raw.generate_random, NumberOfBytes=0) == "ValidationException"
    assert error_code(kms_raw.describe_key, KeyId="") == "ValidationException"
    assert error_code(kms_raw.create_key, KeySpec="NOT_A_SPEC") == "ValidationException"
    assert error_code(kms_raw.create_alias, AliasName="alias/bad name", TargetKeyId="x") == "ValidationException"
    assert error_code(kms_raw.list_keys, Limit=1001) == "ValidationException"


def test_wire_errors(server):
    status, _, body = server.raw("TrentService.NoSuchOperation", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, _, body = server.raw(None, b"{}")
    assert body["__type"] == "UnknownOperationException"
    status, _, body = server.raw("TrentService.ListKeys", b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, _, body = server.raw("TrentService.Encrypt", json.dumps({"KeyId": 5, "Plaintext": "AA=="}).encode())
    assert body["__type"] == "SerializationException"
    status, _, body = server.raw("TrentService.Encrypt", json.dumps({"KeyId": "k", "Plaintext": "@@@"}).encode())
    assert body["__type"] == "SerializationException"


def test_no_state_change_on_bad_input(kms, kms_raw):
    before = {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]}
    for call in (lambda: kms_raw.create_key(KeySpec="NOT_A_SPEC"), lambda: kms_raw.create_key(Tags=[{"TagKey": "", "TagValue": ""}]),
                 lambda: kms_raw.create_key(Policy="[]"), lambda: kms_raw.create_key(Tags=[{"TagKey": "aws:x", "TagValue": ""}])):
        with pytest.raises(Exception):
            call()
    assert {k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]} == before
