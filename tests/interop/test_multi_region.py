"""Multi-Region keys through boto3 in two regions of one server: a ciphertext made in one
region decrypts in the other, the replica's material is the primary's (checked by the
independent blob code over material unwrapped from the data directory), rotation of the
primary reaches the replica, and a signature made in one region verifies with the other
region's public key in Python `cryptography`."""
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from blobformat import open_blob, unwrap_material
from conftest import aws_cli, error_code


def test_a_multi_region_round_trip_across_two_regions(server):
    east, west = server.client("us-east-1"), server.client("eu-west-1")
    primary = east.create_key(Description="global", MultiRegion=True)["KeyMetadata"]
    assert primary["KeyId"].startswith("mrk-") and primary["MultiRegion"] is True
    assert primary["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY", "PrimaryKey": {"Arn": primary["Arn"], "Region": "us-east-1"}, "ReplicaKeys": []}

    out = east.replicate_key(KeyId=primary["Arn"], ReplicaRegion="eu-west-1", Description="europe",
                             Tags=[{"TagKey": "site", "TagValue": "dublin"}])
    replica = out["ReplicaKeyMetadata"]
    assert replica["KeyId"] == primary["KeyId"] and replica["Arn"] == primary["Arn"].replace("us-east-1", "eu-west-1")
    assert replica["KeyState"] == "Enabled" and replica["Description"] == "europe"
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert replica["MultiRegionConfiguration"]["PrimaryKey"] == {"Arn": primary["Arn"], "Region": "us-east-1"}
    assert out["ReplicaTags"] == [{"TagKey": "site", "TagValue": "dublin"}] and '"kms:*"' in out["ReplicaPolicy"]
    assert east.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"] == [
        {"Arn": replica["Arn"], "Region": "eu-west-1"}]
    assert east.list_resource_tags(KeyId=primary["KeyId"])["Tags"] == []

    # Encrypted in one region, decrypted in the other, both ways.
    blob = east.encrypt(KeyId=primary["KeyId"], Plaintext=b"made in virginia", EncryptionContext={"c": "1"})["CiphertextBlob"]
    opened = west.decrypt(CiphertextBlob=blob, EncryptionContext={"c": "1"})
    assert opened["Plaintext"] == b"made in virginia" and opened["KeyId"] == replica["Arn"]
    data_key = west.generate_data_key(KeyId=replica["KeyId"], KeySpec="AES_256")
    assert east.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    # Independently: the replica's own stored copy of the material opens the primary's blob.
    assert unwrap_material(server.data_dir, replica["Arn"]) == unwrap_material(server.data_dir, primary["Arn"])
    assert open_blob(unwrap_material(server.data_dir, replica["Arn"]), blob, {"c": "1"}) == b"made in virginia"

    # Rotation is made on the primary and reaches the replica.
    assert error_code(west.rotate_key_on_demand, KeyId=replica["KeyId"]) == "UnsupportedOperationException"
    east.rotate_key_on_demand(KeyId=primary["KeyId"])
    rotated = east.encrypt(KeyId=primary["KeyId"], Plaintext=b"version two")["CiphertextBlob"]
    assert west.decrypt(CiphertextBlob=rotated)["Plaintext"] == b"version two"
    assert open_blob(unwrap_material(server.data_dir, replica["Arn"], version=2), rotated, {}) == b"version two"
    assert [r["KeyMaterialId"] for r in west.list_key_rotations(KeyId=replica["KeyId"])["Rotations"]] == [
        r["KeyMaterialId"] for r in east.list_key_rotations(KeyId=primary["KeyId"])["Rotations"]]
    east.enable_key_rotation(KeyId=primary["KeyId"], RotationPeriodInDays=180)
    status = west.get_key_rotation_status(KeyId=replica["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180

    # Last usage is each region's own.
    assert west.get_key_last_usage(KeyId=replica["KeyId"])["KeyLastUsage"]["Operation"] == "Decrypt"
    assert east.get_key_last_usage(KeyId=primary["KeyId"])["KeyLastUsage"]["Operation"] == "Encrypt"

    # The replica in its region is a key of its own: an alias there, its own state.
    west.create_alias(AliasName="alias/europe", TargetKeyId=replica["KeyId"])
    assert west.describe_key(KeyId="alias/europe")["KeyMetadata"]["Arn"] == replica["Arn"]
    assert error_code(east.describe_key, KeyId="alias/europe") == "NotFoundException"

    # UpdatePrimaryRegion through the AWS CLI, then the old primary is a replica.
    aws_cli(server, "update-primary-region", "--key-id", primary["Arn"], "--primary-region", "eu-west-1")
    assert west.describe_key(KeyId=replica["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    config = east.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]
    assert config["MultiRegionKeyType"] == "REPLICA" and config["PrimaryKey"]["Region"] == "eu-west-1"

    # Deleting the primary waits for its replicas.
    scheduled = west.schedule_key_deletion(KeyId=replica["KeyId"], PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in scheduled
    assert east.schedule_key_deletion(KeyId=primary["KeyId"], PendingWindowInDays=7)["KeyState"] == "PendingDeletion"


def test_replicate_key_errors(server):
    east = server.client("us-east-1")
    single = east.create_key()["KeyMetadata"]
    assert error_code(east.replicate_key, KeyId=single["KeyId"], ReplicaRegion="eu-west-1") == "UnsupportedOperationException"
    primary = east.create_key(MultiRegion=True)["KeyMetadata"]
    assert error_code(east.replicate_key, KeyId=primary["KeyId"], ReplicaRegion="us-east-1") == "AlreadyExistsException"
    assert error_code(east.replicate_key, KeyId=primary["KeyId"], ReplicaRegion="not a region") == "ValidationException"
    east.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="ap-southeast-2")
    assert error_code(east.replicate_key, KeyId=primary["KeyId"], ReplicaRegion="ap-southeast-2") == "AlreadyExistsException"


def test_an_asymmetric_signature_from_one_region_verifies_with_the_other_regions_public_key(server):
    east, west = server.client("us-east-1"), server.client("eu-west-1")
    primary = east.create_key(KeySpec="ECC_NIST_P384", KeyUsage="SIGN_VERIFY", MultiRegion=True)["KeyMetadata"]
    east.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")
    signature = east.sign(KeyId=primary["KeyId"], Message=b"signed in virginia", SigningAlgorithm="ECDSA_SHA_384")["Signature"]
    public_key = serialization.load_der_public_key(west.get_public_key(KeyId=primary["KeyId"])["PublicKey"])
    public_key.verify(signature, b"signed in virginia", ec.ECDSA(hashes.SHA384()))
    assert west.verify(KeyId=primary["KeyId"], Message=b"signed in virginia", Signature=signature,
                       SigningAlgorithm="ECDSA_SHA_384")["SignatureValid"] is True
