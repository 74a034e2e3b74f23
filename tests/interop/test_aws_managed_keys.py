"""AWS managed keys through a real server: a registered service principal (s3.amazonaws.com)
makes requests on behalf of a user with the user's forward access token in a signed
`X-SwiftKMS-Forward-Access-Token` header, as AWS services do with their callers' identity; its
first use of `alias/aws/s3` makes the key. The account can read the key but use it only through
the service, and nobody can change it."""
import json

from conftest import error_code, swiftkms

ACCOUNT = "111122223333"


def forward_token(server, principal_key, service, duration=None):
    """The forward access token a principal makes for `service` with its own credentials."""
    body = {"ServicePrincipal": service}
    if duration is not None:
        body["DurationSeconds"] = duration
    status, _, out = server.raw("SwiftKMS.CreateForwardAccessToken", json.dumps(body).encode(),
                                access_key=principal_key["AccessKeyId"], secret_key=principal_key["SecretAccessKey"])
    assert status == 200, out
    return out["ForwardAccessToken"]


def forwarding_client(server, service_key, token, signed=True, header="X-SwiftKMS-Forward-Access-Token"):
    """A boto3 client of the service principal that adds the token header before signing
    (signed) or after (unsigned, as someone on the way could)."""
    client = server.client(access_key=service_key["AccessKeyId"], secret_key=service_key["SecretAccessKey"])

    def add(request, **_):
        request.headers[header] = token

    client.meta.events.register("before-sign.kms" if signed else "before-send.kms", add)
    return client


def test_a_service_uses_its_aws_managed_key_on_behalf_of_a_user(server, kms):
    s3_key = json.loads(server.admin("create-service-principal", "--service", "s3.amazonaws.com"))
    alice_key = json.loads(server.admin("create-user", "--name", "alice"))
    alice_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    s3_for_alice = forwarding_client(server, s3_key, forward_token(server, alice_key, "s3.amazonaws.com"))

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

    # Only the service principal the token names may use it, only signed; stolen service
    # credentials alone (the ARN in the old header, or no token) act as nobody.
    alice_token = forward_token(server, alice_key, "s3.amazonaws.com")
    assert error_code(forwarding_client(server, alice_key, alice_token).describe_key, KeyId=meta["KeyId"]) == "AccessDeniedException"
    assert error_code(forwarding_client(server, s3_key, alice_token, signed=False).encrypt,
                      KeyId="alias/aws/s3", Plaintext=b"x") == "AccessDeniedException"
    for forged in (alice_token[:-4] + "AAAA", "swkfat1.", "not a token", alice_token + alice_token):
        assert error_code(forwarding_client(server, s3_key, forged).encrypt, KeyId="alias/aws/s3", Plaintext=b"x") == "AccessDeniedException"
    assert error_code(forwarding_client(server, s3_key, f"arn:aws:iam::{ACCOUNT}:root", header="X-SwiftKMS-On-Behalf-Of").encrypt,
                      KeyId="alias/aws/s3", Plaintext=b"x") == "AccessDeniedException"

    # The audit trail names alice, invoked by S3.
    out = swiftkms("audit", "lookup", "--data-dir", server.data_dir, "--event-name", "Decrypt", "--output", "json")
    decrypt = json.loads(out.stdout)[0]
    assert decrypt["userIdentity"]["arn"] == alice_arn and decrypt["userIdentity"]["invokedBy"] == "s3.amazonaws.com"


def test_the_admin_command_makes_an_aws_managed_key(server, kms):
    made = json.loads(server.admin("create-aws-managed-key", "--service", "dynamodb", "--region", "us-east-1"))
    assert made["AliasName"] == "alias/aws/dynamodb" and made["KeyManager"] == "AWS"
    again = json.loads(server.admin("create-aws-managed-key", "--service", "dynamodb", "--region", "us-east-1"))
    assert again["KeyId"] == made["KeyId"]
    assert kms.describe_key(KeyId="alias/aws/dynamodb")["KeyMetadata"]["KeyManager"] == "AWS"
