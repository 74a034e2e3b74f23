"""AWS managed keys through a real server: a registered service principal (s3.amazonaws.com)
makes requests on behalf of a user with a signed `X-SwiftKMS-On-Behalf-Of` header, as AWS
services do with their callers' identity; its first use of `alias/aws/s3` makes the key. The
account can read the key but use it only through the service, and nobody can change it."""
import json
import subprocess

from conftest import BINARY, error_code

ACCOUNT = "111122223333"


def forwarding_client(server, service_key, on_behalf_of, signed=True):
    """A boto3 client of the service principal that adds the header before signing (signed)
    or after (unsigned, as someone on the way could)."""
    client = server.client(access_key=service_key["AccessKeyId"], secret_key=service_key["SecretAccessKey"])

    def add(request, **_):
        request.headers["X-SwiftKMS-On-Behalf-Of"] = on_behalf_of

    client.meta.events.register("before-sign.kms" if signed else "before-send.kms", add)
    return client


def test_a_service_uses_its_aws_managed_key_on_behalf_of_a_user(server, kms):
    s3_key = json.loads(server.admin("create-service-principal", "--service", "s3.amazonaws.com"))
    alice_key = json.loads(server.admin("create-user", "--name", "alice"))
    alice_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    s3_for_alice = forwarding_client(server, s3_key, alice_arn)

    # First use through S3 makes the key; S3 can then decrypt for alice.
    out = s3_for_alice.encrypt(KeyId="alias/aws/s3", Plaintext=b"object data key", EncryptionContext={"aws:s3:arn": "arn:aws:s3:::b/o"})
    meta = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert meta["KeyManager"] == "AWS" and meta["Arn"] == out["KeyId"] and meta["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"] is True
    assert s3_for_alice.decrypt(CiphertextBlob=out["CiphertextBlob"],
                                EncryptionContext={"aws:s3:arn": "arn:aws:s3:::b/o"})["Plaintext"] == b"object data key"
    policy = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com"
    assert "alias/aws/s3" in [a["AliasName"] for a in kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]]

    # Not directly: neither alice nor the account root, nor S3 as itself.
    alice = server.client(access_key=alice_key["AccessKeyId"], secret_key=alice_key["SecretAccessKey"])
    for caller in (alice, kms, server.client(access_key=s3_key["AccessKeyId"], secret_key=s3_key["SecretAccessKey"])):
        assert error_code(caller.encrypt, KeyId=meta["KeyId"], Plaintext=b"x") == "AccessDeniedException"
    # Nobody changes it.
    assert error_code(kms.disable_key, KeyId=meta["KeyId"]) == "AccessDeniedException"
    assert error_code(kms.schedule_key_deletion, KeyId=meta["KeyId"]) == "AccessDeniedException"
    assert error_code(kms.put_key_policy, KeyId=meta["KeyId"], PolicyName="default", Policy=json.dumps(policy),
                      BypassPolicyLockoutSafetyCheck=True) == "AccessDeniedException"
    assert error_code(kms.delete_alias, AliasName="alias/aws/s3") == "AccessDeniedException"
    assert error_code(s3_for_alice.disable_key, KeyId=meta["KeyId"]) == "AccessDeniedException"

    # Only a registered service principal may speak for someone, only signed, only for a
    # principal of its account that exists.
    assert error_code(forwarding_client(server, alice_key, f"arn:aws:iam::{ACCOUNT}:root").describe_key,
                      KeyId=meta["KeyId"]) == "AccessDeniedException"
    assert error_code(forwarding_client(server, s3_key, alice_arn, signed=False).encrypt,
                      KeyId="alias/aws/s3", Plaintext=b"x") == "AccessDeniedException"
    for stranger in (f"arn:aws:iam::{ACCOUNT}:user/nobody", "arn:aws:iam::444455556666:user/alice", "not an arn"):
        assert error_code(forwarding_client(server, s3_key, stranger).encrypt, KeyId="alias/aws/s3", Plaintext=b"x") == "AccessDeniedException"

    # The audit trail names alice, invoked by S3.
    out = subprocess.run([BINARY, "audit", "lookup", "--data-dir", server.data_dir, "--event-name", "Decrypt", "--output", "json"],
                         capture_output=True, text=True, check=True)
    decrypt = json.loads(out.stdout)[0]
    assert decrypt["userIdentity"]["arn"] == alice_arn and decrypt["userIdentity"]["invokedBy"] == "s3.amazonaws.com"


def test_the_admin_command_makes_an_aws_managed_key(server, kms):
    made = json.loads(server.admin("create-aws-managed-key", "--service", "dynamodb", "--region", "us-east-1"))
    assert made["AliasName"] == "alias/aws/dynamodb" and made["KeyManager"] == "AWS"
    again = json.loads(server.admin("create-aws-managed-key", "--service", "dynamodb", "--region", "us-east-1"))
    assert again["KeyId"] == made["KeyId"]
    assert kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["KeyManager"] == "AWS"
