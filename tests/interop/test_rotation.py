"""Key rotation through boto3 and the AWS CLI: every ciphertext made before any number of
on-demand rotations still decrypts, each under the material version it names, checked by an
independent implementation of the blob format over material unwrapped from the data directory."""
import datetime
import json

import pytest
from cryptography.exceptions import InvalidTag

from blobformat import open_blob, unwrap_material
from conftest import aws_cli, error_code


def test_rotate_on_demand_three_times_and_every_old_ciphertext_decrypts(server, kms):
    key = kms.create_key(Description="rotated")["KeyMetadata"]
    blobs = []
    for i in range(4):
        if i:
            assert kms.rotate_key_on_demand(KeyId=key["KeyId"])["KeyId"] == key["Arn"]
        blobs.append(kms.encrypt(KeyId=key["KeyId"], Plaintext=f"secret {i}".encode(), EncryptionContext={"n": str(i)})["CiphertextBlob"])
    for i, blob in enumerate(blobs):
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"n": str(i)})["Plaintext"] == f"secret {i}".encode()
        # Made with version i + 1: only that version's material opens it, independently.
        material = unwrap_material(server.data_dir, key["Arn"], version=i + 1)
        assert open_blob(material, blob, {"n": str(i)}) == f"secret {i}".encode()
        if i:
            with pytest.raises(InvalidTag):
                open_blob(unwrap_material(server.data_dir, key["Arn"], version=i), blob, {"n": str(i)})
    # ReEncrypt moves the oldest ciphertext to the newest material.
    moved = kms.re_encrypt(CiphertextBlob=blobs[0], SourceEncryptionContext={"n": "0"}, DestinationKeyId=key["KeyId"],
                           DestinationEncryptionContext={"n": "0"})["CiphertextBlob"]
    assert open_blob(unwrap_material(server.data_dir, key["Arn"], version=4), moved, {"n": "0"}) == b"secret 0"

    rotations = kms.list_key_rotations(KeyId=key["KeyId"])["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"] * 3
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT", "NON_CURRENT", "CURRENT"]
    assert all(isinstance(r["RotationDate"], datetime.datetime) and len(r["KeyMaterialId"]) == 64 for r in rotations)
    every = kms.list_key_rotations(KeyId=key["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert len(every) == 4 and "RotationType" not in every[0]
    page = kms.list_key_rotations(KeyId=key["KeyId"], Limit=2)
    assert page["Truncated"] and len(page["Rotations"]) == 2
    rest = kms.list_key_rotations(KeyId=key["KeyId"], Limit=2, Marker=page["NextMarker"])
    assert not rest["Truncated"] and [r["KeyMaterialId"] for r in page["Rotations"] + rest["Rotations"]] == [r["KeyMaterialId"] for r in rotations]


def test_automatic_rotation_settings(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    days = (status["NextRotationDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
    assert 179.9 < days <= 180
    kms.enable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["RotationPeriodInDays"] == 365
    kms.disable_key_rotation(KeyId=key)
    assert "NextRotationDate" not in kms.get_key_rotation_status(KeyId=key)
    raw = server.client(validate=False)
    assert error_code(raw.enable_key_rotation, KeyId=key, RotationPeriodInDays=89) == "ValidationException"
    assert error_code(raw.enable_key_rotation, KeyId=key, RotationPeriodInDays=2561) == "ValidationException"


def test_rotation_refused_where_aws_refuses_it(server, kms):
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    hmac = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    for key in (rsa, hmac):
        assert error_code(kms.enable_key_rotation, KeyId=key) == "UnsupportedOperationException"
        assert error_code(kms.rotate_key_on_demand, KeyId=key) == "UnsupportedOperationException"
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key)
    assert error_code(kms.rotate_key_on_demand, KeyId=key) == "DisabledException"
    assert error_code(kms.enable_key_rotation, KeyId=key) == "DisabledException"


def test_rotation_from_the_cli(server):
    key = json.loads(aws_cli(server, "create-key").stdout)["KeyMetadata"]["KeyId"]
    aws_cli(server, "rotate-key-on-demand", "--key-id", key)
    rotations = json.loads(aws_cli(server, "list-key-rotations", "--key-id", key).stdout)["Rotations"]
    assert len(rotations) == 1 and rotations[0]["RotationType"] == "ON_DEMAND"


def test_responses_name_the_key_material_they_used(kms):
    key = kms.create_key()["KeyMetadata"]
    first = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert len(first) == 64 and key["CurrentKeyMaterialId"] == first
    old = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")
    assert old["KeyMaterialId"] == first
    kms.rotate_key_on_demand(KeyId=key["KeyId"])
    second = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert second != first
    assert [r["KeyMaterialId"] for r in kms.list_key_rotations(KeyId=key["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]] == [first, second]
    assert kms.decrypt(CiphertextBlob=old["CiphertextBlob"])["KeyMaterialId"] == first
    assert kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256")["KeyMaterialId"] == second
    moved = kms.re_encrypt(CiphertextBlob=old["CiphertextBlob"], DestinationKeyId=key["KeyId"])
    assert (moved["SourceKeyMaterialId"], moved["DestinationKeyMaterialId"]) == (first, second)
    assert kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")["KeyMaterialId"] == second
    # Asymmetric and HMAC keys have none.
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert "CurrentKeyMaterialId" not in signing
