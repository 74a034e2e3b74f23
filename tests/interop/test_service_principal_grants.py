"""Grants to AWS service principals (the 2026-05-20 model): GranteeServicePrincipal,
RetiringServicePrincipal and the SourceArn constraint, as the AWS CLI and boto3 send them, and
used by a service principal that acts for the resource the grant names. Also the dry run of
Decrypt and ReEncrypt that ignores the ciphertext (DryRunModifiers IGNORE_CIPHERTEXT)."""
import json

from conftest import ACCOUNT, aws_cli, error_code

from test_access_control import ADMIN, doc, principal

SERVICE = "logs.amazonaws.com"
LOG_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:payments"
OTHER_GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:other"


def acting_for(client, source_arn):
    """The client's requests say they are made on behalf of `source_arn` (signed, as every
    header botocore sends)."""
    client.meta.events.register("before-sign.kms.*", lambda request, **_: request.headers.add_header("X-Swiftkms-Source-Arn", source_arn))
    return client


def service_clients(server, name=SERVICE):
    """(credentials, a client acting for LOG_GROUP, one for OTHER_GROUP, one acting for none)."""
    creds, _ = principal(server, "service", name)
    make = lambda: server.client(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"])
    return creds, acting_for(make(), LOG_GROUP), acting_for(make(), OTHER_GROUP), make()


def test_a_grant_to_a_service_principal_for_one_resource(server, kms):
    key = kms.create_key(Policy=doc(ADMIN, {"Effect": "Allow", "Principal": {"Service": SERVICE},
                                            "Action": "kms:ListGrants", "Resource": "*"}))["KeyMetadata"]
    out = aws_cli(server, "create-grant", "--key-id", key["KeyId"], "--grantee-service-principal", SERVICE,
                  "--retiring-service-principal", SERVICE, "--operations", "GenerateDataKey", "Decrypt", "DescribeKey",
                  "--constraints", f"SourceArn={LOG_GROUP}", "--name", "log-group-payments", "--output", "json")
    grant_id = json.loads(out.stdout)["GrantId"]
    listed = json.loads(aws_cli(server, "list-grants", "--key-id", key["KeyId"], "--output", "json").stdout)["Grants"]
    assert [(g["GrantId"], g["GranteeServicePrincipal"], g["RetiringServicePrincipal"], g["Constraints"], "GranteePrincipal" in g)
            for g in listed] == [(grant_id, SERVICE, SERVICE, {"SourceArn": LOG_GROUP}, False)]

    creds, for_group, for_other, for_none = service_clients(server)
    data_key = for_group.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")
    assert for_group.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    assert for_group.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    # The constraint holds for every operation: another resource, or none, gets nothing.
    for client in (for_other, for_none):
        assert error_code(client.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256") == "AccessDeniedException"
        assert error_code(client.decrypt, CiphertextBlob=data_key["CiphertextBlob"]) == "AccessDeniedException"
        assert error_code(client.describe_key, KeyId=key["Arn"]) == "AccessDeniedException"
    # Only a service principal acts for a resource: a user saying so is refused outright.
    bob, as_bob = principal(server, "user", "bob-service-grants")
    assert error_code(acting_for(as_bob, LOG_GROUP).describe_key, KeyId=key["Arn"]) == "AccessDeniedException"
    # A grant to GranteePrincipal with the service's name is not one to GranteeServicePrincipal.
    assert [g["GrantId"] for g in for_none.list_grants(KeyId=key["Arn"], GranteeServicePrincipal=SERVICE)["Grants"]] == [grant_id]
    assert for_none.list_grants(KeyId=key["Arn"], GranteeServicePrincipal="s3.amazonaws.com")["Grants"] == []
    assert kms.list_grants(KeyId=key["Arn"], GranteePrincipal=SERVICE)["Grants"] == []
    # Those filters are for service principals only (AWS: "only usable by callers in a service principal").
    assert error_code(kms.list_grants, KeyId=key["Arn"], GranteeServicePrincipal=SERVICE) == "AccessDeniedException"
    assert error_code(kms.list_retirable_grants, RetiringServicePrincipal=SERVICE) == "AccessDeniedException"
    retirable = for_none.list_retirable_grants(RetiringServicePrincipal=SERVICE)["Grants"]
    assert [(g["GrantId"], g["RetiringServicePrincipal"]) for g in retirable] == [(grant_id, SERVICE)]
    assert kms.list_retirable_grants(RetiringPrincipal=SERVICE)["Grants"] == []

    # Retiring: the retiring service principal itself (the SourceArn constraint does not apply), no one else.
    assert error_code(as_bob.retire_grant, KeyId=key["Arn"], GrantId=grant_id) == "AccessDeniedException"
    for_none.retire_grant(KeyId=key["Arn"], GrantId=grant_id)
    assert kms.list_grants(KeyId=key["Arn"])["Grants"] == []
    assert error_code(for_group.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256") == "AccessDeniedException"


def test_what_a_grant_to_a_service_principal_needs(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    base = {"KeyId": key, "Operations": ["Decrypt"]}
    with_source = {"SourceArn": LOG_GROUP}
    cases = [
        dict(GranteeServicePrincipal=SERVICE, RetiringServicePrincipal=SERVICE),           # no SourceArn
        dict(GranteeServicePrincipal=SERVICE, Constraints=with_source),                     # no retiring principal
        dict(GranteeServicePrincipal=SERVICE, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:root",
             RetiringServicePrincipal=SERVICE, Constraints=with_source),                    # two grantees
        dict(GranteeServicePrincipal=SERVICE, RetiringServicePrincipal=SERVICE,
             RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:root", Constraints=with_source),    # two retiring principals
        dict(RetiringServicePrincipal=SERVICE),                                             # no grantee
        dict(GranteeServicePrincipal="not a service", RetiringServicePrincipal=SERVICE, Constraints=with_source),
        dict(GranteeServicePrincipal=SERVICE, RetiringServicePrincipal=SERVICE, Constraints={"SourceArn": "arn:aws:logs:us-east-1:12:x"}),
    ]
    for case in cases:
        assert error_code(kms.create_grant, **base, **case) == "ValidationException", case
    # A SourceArn constraint suits every kind of key (encryption context constraints only symmetric ones).
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=signing, GranteeServicePrincipal=SERVICE, RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:root",
                     Operations=["Sign", "GetPublicKey"], Constraints=with_source)
    assert error_code(kms.create_grant, KeyId=signing, GranteeServicePrincipal=SERVICE, RetiringServicePrincipal=SERVICE,
                      Operations=["Sign"], Constraints={"SourceArn": LOG_GROUP, "EncryptionContextSubset": {"a": "b"}}) == "ValidationException"


def test_condition_keys_of_service_principal_grants(server, kms):
    """kms:GranteeServicePrincipal, kms:GrantConstraintSourceArn and kms:GrantConstraintType
    limit who may create what grant; aws:SourceArn and aws:SourceAccount let a key policy
    allow a service only for resources it names."""
    carol, as_carol = principal(server, "user", "carol-service-grants")
    key = kms.create_key(Policy=doc(
        ADMIN,
        {"Effect": "Allow", "Principal": {"AWS": carol["Arn"]}, "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"StringEquals": {"kms:GranteeServicePrincipal": SERVICE, "kms:GrantConstraintSourceArn": LOG_GROUP},
                       "ForAllValues:StringEquals": {"kms:GrantConstraintType": ["SourceArn"]}}},
        {"Effect": "Allow", "Principal": {"Service": "sqs.amazonaws.com"}, "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-*"},
                       "StringEquals": {"aws:SourceAccount": ACCOUNT}}},
    ))["KeyMetadata"]["Arn"]
    ok = dict(KeyId=key, GranteeServicePrincipal=SERVICE, RetiringServicePrincipal=SERVICE, Operations=["Decrypt"],
              Constraints={"SourceArn": LOG_GROUP})
    as_carol.create_grant(**ok)
    assert error_code(as_carol.create_grant, **dict(ok, GranteeServicePrincipal="s3.amazonaws.com")) == "AccessDeniedException"
    assert error_code(as_carol.create_grant, **dict(ok, Constraints={"SourceArn": OTHER_GROUP})) == "AccessDeniedException"
    assert error_code(as_carol.create_grant, KeyId=key, GranteePrincipal=carol["Arn"], Operations=["Decrypt"]) == "AccessDeniedException"

    creds, _ = principal(server, "service", "sqs.amazonaws.com")
    make = lambda: server.client(access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"])
    orders = acting_for(make(), f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-eu")
    blob = orders.generate_data_key(KeyId=key, KeySpec="AES_256")["CiphertextBlob"]
    orders.decrypt(CiphertextBlob=blob)
    assert error_code(acting_for(make(), f"arn:aws:sqs:us-east-1:{ACCOUNT}:billing").decrypt, CiphertextBlob=blob) == "AccessDeniedException"
    assert error_code(make().decrypt, CiphertextBlob=blob) == "AccessDeniedException"
    # A malformed resource ARN is refused before anything else.
    assert error_code(acting_for(make(), "not-an-arn").decrypt, CiphertextBlob=blob) == "ValidationException"


def test_dry_run_that_ignores_the_ciphertext(server, kms):
    key = kms.create_key()["KeyMetadata"]
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    dan, as_dan = principal(server, "user", "dan-dry-run")
    ignore = {"DryRun": True, "DryRunModifiers": ["IGNORE_CIPHERTEXT"]}
    assert error_code(kms.decrypt, KeyId=key["Arn"], **ignore) == "DryRunOperationException"
    assert error_code(kms.decrypt, KeyId=key["Arn"], CiphertextBlob=b"not a ciphertext at all", **ignore) == "DryRunOperationException"
    assert error_code(kms.decrypt, KeyId=rsa["Arn"], EncryptionAlgorithm="RSAES_OAEP_SHA_256", **ignore) == "DryRunOperationException"
    # Authorization and the key's state and usage are still checked.
    assert error_code(as_dan.decrypt, KeyId=key["Arn"], **ignore) == "AccessDeniedException"
    assert error_code(kms.decrypt, KeyId=rsa["Arn"], **ignore) == "InvalidKeyUsageException"
    kms.disable_key(KeyId=key["KeyId"])
    assert error_code(kms.decrypt, KeyId=key["Arn"], **ignore) == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    # Without the key, or without the modifier, or without DryRun, the ciphertext is needed.
    assert error_code(kms.decrypt, **ignore) == "ValidationException"
    assert error_code(kms.decrypt, KeyId=key["Arn"], DryRun=True) == "ValidationException"
    assert error_code(kms.decrypt, KeyId=key["Arn"], DryRunModifiers=["IGNORE_CIPHERTEXT"]) == "ValidationException"
    assert error_code(kms.re_encrypt, SourceKeyId=key["Arn"], DestinationKeyId=key["Arn"], **ignore) == "DryRunOperationException"
    assert error_code(kms.re_encrypt, DestinationKeyId=key["Arn"], **ignore) == "ValidationException"
    assert error_code(as_dan.re_encrypt, SourceKeyId=key["Arn"], DestinationKeyId=key["Arn"], **ignore) == "AccessDeniedException"
    out = aws_cli(server, "decrypt", "--key-id", key["KeyId"], "--dry-run", "--dry-run-modifiers", "IGNORE_CIPHERTEXT", check=False)
    assert out.returncode != 0 and "DryRunOperationException" in out.stderr, out.stderr
