"""Access control as AWS KMS enforces it, through a real server with several users and two
accounts: the walkthroughs of AWS's documentation, driven by boto3 and the AWS CLI."""
import base64
import json

import pytest

from conftest import ACCOUNT, aws_cli, error_code

OTHER = "444455556666"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ADMIN = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}


def principal(server, kind, name, account=ACCOUNT, policy=None):
    """Creates a user (or role, or service principal) and returns (credentials dict, boto3 client)."""
    flag = {"user": ("create-user", "--name"), "role": ("create-role", "--name"),
            "service": ("create-service-principal", "--service")}[kind]
    issued = json.loads(server.admin(flag[0], flag[1], name, "--account-id", account))
    if policy is not None:
        server.admin("attach-policy", "--principal", issued["Arn"] if kind != "service" else f"service/{name}",
                     "--account-id", account, "--policy-name", "p", "--policy-document", policy)
    return issued, server.client(access_key=issued["AccessKeyId"], secret_key=issued["SecretAccessKey"])


def cli(server, creds, *args, check=True):
    return aws_cli(server, *args, access_key=creds["AccessKeyId"], secret_key=creds["SecretAccessKey"], check=check)


def test_key_usable_only_with_encryption_context(server, kms):
    """AWS's example: a key policy that lets a user encrypt and decrypt only with AppName=ExampleApp."""
    app, as_app = principal(server, "user", "exampleapp")
    statement = {"Sid": "OnlyExampleApp", "Effect": "Allow", "Principal": {"AWS": app["Arn"]},
                 "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                 "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}}
    key = kms.create_key(Policy=doc(ADMIN, statement))["KeyMetadata"]
    blob = as_app.encrypt(KeyId=key["Arn"], Plaintext=b"data", EncryptionContext={"AppName": "ExampleApp"})["CiphertextBlob"]
    assert as_app.decrypt(CiphertextBlob=blob, EncryptionContext={"AppName": "ExampleApp"})["Plaintext"] == b"data"
    with pytest.raises(Exception) as denied:
        as_app.encrypt(KeyId=key["Arn"], Plaintext=b"data", EncryptionContext={"AppName": "Other"})
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (f"User: {app['Arn']} is not authorized to perform: kms:Encrypt on resource: {key['Arn']} "
                                "because no identity-based policy allows the kms:Encrypt action")
    assert error_code(as_app.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "AccessDeniedException"
    assert error_code(as_app.describe_key, KeyId=key["Arn"]) == "AccessDeniedException"
    # The key policy round-trips, and a policy that would lock the caller out is refused.
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])["Statement"][1]["Sid"] == "OnlyExampleApp"
    assert kms.list_key_policies(KeyId=key["KeyId"])["PolicyNames"] == ["default"]
    assert error_code(kms.put_key_policy, KeyId=key["KeyId"], PolicyName="default", Policy=doc(statement)) == "MalformedPolicyDocumentException"
    assert error_code(kms.put_key_policy, KeyId=key["KeyId"], PolicyName="default",
                      Policy=doc(ADMIN, {**statement, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/nobody"}})) == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=doc(ADMIN))
    assert error_code(as_app.decrypt, CiphertextBlob=blob, EncryptionContext={"AppName": "ExampleApp"}) == "AccessDeniedException"


def test_grant_with_constraint_token_and_retirement(server, kms):
    """AWS's example: a grant lets a user decrypt only with Department=IT; its token works at
    once; the user retires it and loses access."""
    bob, as_bob = principal(server, "user", "bob-grants")
    key = kms.create_key()["KeyMetadata"]
    it_blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"payroll", EncryptionContext={"Department": "IT", "Year": "2026"})["CiphertextBlob"]
    hr_blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"payroll", EncryptionContext={"Department": "HR"})["CiphertextBlob"]
    assert error_code(as_bob.decrypt, CiphertextBlob=it_blob, EncryptionContext={"Department": "IT", "Year": "2026"}) == "AccessDeniedException"

    grant = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=bob["Arn"], RetiringPrincipal=bob["Arn"],
                             Operations=["Decrypt", "RetireGrant"], Name="bob-it",
                             Constraints={"EncryptionContextSubset": {"Department": "IT"}})
    assert len(grant["GrantId"]) == 64
    out = as_bob.decrypt(CiphertextBlob=it_blob, EncryptionContext={"Department": "IT", "Year": "2026"}, GrantTokens=[grant["GrantToken"]])
    assert out["Plaintext"] == b"payroll"
    assert error_code(as_bob.decrypt, CiphertextBlob=hr_blob, EncryptionContext={"Department": "HR"}) == "AccessDeniedException"
    assert error_code(as_bob.decrypt, CiphertextBlob=it_blob, EncryptionContext={"Department": "IT", "Year": "2026"},
                      GrantTokens=["not-a-grant-token"]) == "InvalidGrantTokenException"
    # Same name and parameters: the same grant (AWS's idempotency).
    again = kms.create_grant(KeyId=key["Arn"], GranteePrincipal=bob["Arn"], RetiringPrincipal=bob["Arn"],
                             Operations=["RetireGrant", "Decrypt"], Name="bob-it",
                             Constraints={"EncryptionContextSubset": {"Department": "IT"}})
    assert again["GrantId"] == grant["GrantId"]
    listed = kms.list_grants(KeyId=key["KeyId"])["Grants"]
    assert [(g["GrantId"], g["Name"], g["GranteePrincipal"], sorted(g["Operations"]), g["Constraints"], g["IssuingAccount"], g["KeyId"])
            for g in listed] == [(grant["GrantId"], "bob-it", bob["Arn"], ["Decrypt", "RetireGrant"],
                                  {"EncryptionContextSubset": {"Department": "IT"}}, f"arn:aws:iam::{ACCOUNT}:root", key["Arn"])]
    assert [g["GrantId"] for g in kms.list_retirable_grants(RetiringPrincipal=bob["Arn"])["Grants"]] == [grant["GrantId"]]
    assert error_code(as_bob.retire_grant, GrantToken=grant["GrantToken"], DryRun=True) == "DryRunOperationException"
    as_bob.retire_grant(GrantToken=grant["GrantToken"])
    assert kms.list_grants(KeyId=key["KeyId"])["Grants"] == []
    assert error_code(as_bob.decrypt, CiphertextBlob=it_blob, EncryptionContext={"Department": "IT", "Year": "2026"}) == "AccessDeniedException"
    assert error_code(as_bob.retire_grant, GrantToken=grant["GrantToken"]) == "NotFoundException"

    # A grant an admin revokes.
    other = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=bob["Arn"], Operations=["Encrypt"])
    as_bob.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert error_code(as_bob.revoke_grant, KeyId=key["Arn"], GrantId=other["GrantId"]) == "AccessDeniedException"
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=other["GrantId"])
    assert error_code(as_bob.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "AccessDeniedException"
    assert error_code(kms.create_grant, KeyId=key["KeyId"], GranteePrincipal=bob["Arn"], Operations=["Sign"]) == "ValidationException"
    assert error_code(kms.create_grant, KeyId=key["KeyId"], GranteePrincipal="arn:aws:iam::111122223333:user/nobody",
                      Operations=["Decrypt"]) == "ValidationException"


def test_cross_account_encrypt_with_key_arn(server, kms):
    """A key of account A used from account B: A's key policy allows B, and B's identity policy
    allows its user; either side alone is not enough."""
    key = kms.create_key(Policy=doc(ADMIN, {"Sid": "AllowAccountB", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"], "Resource": "*"}))["KeyMetadata"]
    carol, as_carol = principal(server, "user", "carol", account=OTHER)
    assert error_code(as_carol.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "AccessDeniedException"
    server.admin("attach-policy", "--principal", carol["Arn"], "--policy-name", "use-a-key", "--policy-document",
                 doc({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": key["Arn"]}))
    blob = as_carol.encrypt(KeyId=key["Arn"], Plaintext=b"from B")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"from B"
    assert as_carol.decrypt(CiphertextBlob=blob)["Plaintext"] == b"from B"
    assert as_carol.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    # The key ID alone names a key in carol's own account, where there is none.
    assert error_code(as_carol.encrypt, KeyId=key["KeyId"], Plaintext=b"x") == "NotFoundException"
    # Her identity policy does not cover GenerateDataKey, though the key policy does.
    assert error_code(as_carol.generate_data_key, KeyId=key["Arn"], KeySpec="AES_256") == "AccessDeniedException"
    # Account B's root has the key policy's permission and needs no identity policy.
    root_b = json.loads(server.admin("create-access-key", "--principal", "root", "--account-id", OTHER))
    as_root_b = server.client(access_key=root_b["AccessKeyId"], secret_key=root_b["SecretAccessKey"])
    assert as_root_b.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256")["KeyId"] == key["Arn"]
    assert error_code(as_root_b.disable_key, KeyId=key["Arn"]) == "AccessDeniedException"


def test_abac_by_tag_and_alias(server, kms):
    """Attribute-based access: a user may use keys tagged with its own project, and keys whose
    alias starts with its team's prefix."""
    tagged = doc({"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                  "Condition": {"StringEquals": {"aws:ResourceTag/Project": "${aws:PrincipalTag/Project}"}}},
                 {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*",
                  "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/finance-*"}}})
    dave, as_dave = principal(server, "user", "dave", policy=tagged)
    server.admin("tag-principal", "--principal", "user/dave", "Project=Alpha")
    assert json.loads(server.admin("list-principal-tags", "--principal", "user/dave")) == {"Project": "Alpha"}
    alpha = kms.create_key(Tags=[{"TagKey": "Project", "TagValue": "Alpha"}])["KeyMetadata"]
    beta = kms.create_key(Tags=[{"TagKey": "Project", "TagValue": "Beta"}])["KeyMetadata"]
    finance = kms.create_key()["KeyMetadata"]
    as_dave.encrypt(KeyId=alpha["Arn"], Plaintext=b"x")
    assert error_code(as_dave.encrypt, KeyId=beta["Arn"], Plaintext=b"x") == "AccessDeniedException"
    kms.tag_resource(KeyId=beta["KeyId"], Tags=[{"TagKey": "Project", "TagValue": "Alpha"}])
    as_dave.encrypt(KeyId=beta["Arn"], Plaintext=b"x")
    assert error_code(as_dave.encrypt, KeyId=finance["Arn"], Plaintext=b"x") == "AccessDeniedException"
    kms.create_alias(AliasName="alias/finance-payroll", TargetKeyId=finance["KeyId"])
    as_dave.encrypt(KeyId=finance["Arn"], Plaintext=b"x")
    server.admin("untag-principal", "--principal", "user/dave", "Project")
    assert error_code(as_dave.encrypt, KeyId=alpha["Arn"], Plaintext=b"x") == "AccessDeniedException"
    assert "p" in json.loads(server.admin("list-policies", "--principal", "user/dave"))
    server.admin("detach-policy", "--principal", "user/dave", "--policy-name", "p")
    assert error_code(as_dave.encrypt, KeyId=finance["Arn"], Plaintext=b"x") == "AccessDeniedException"


def test_roles_and_service_principals(server, kms):
    role, as_role = principal(server, "role", "app-role")
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/app-role"
    service, as_service = principal(server, "service", "dynamodb.amazonaws.com")
    key = kms.create_key(Policy=doc(ADMIN,
        {"Effect": "Allow", "Principal": {"AWS": role["Arn"]}, "Action": "kms:Encrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "dynamodb.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*"}))["KeyMetadata"]
    as_role.encrypt(KeyId=key["Arn"], Plaintext=b"x")
    assert as_service.describe_key(KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    assert error_code(as_service.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "AccessDeniedException"
    grant = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal="dynamodb.amazonaws.com", Operations=["Encrypt", "Decrypt"])
    blob = as_service.encrypt(KeyId=key["Arn"], Plaintext=b"table key")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"table key"
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=grant["GrantId"])
    server.admin("delete-principal", "--principal", "role/app-role")
    assert error_code(as_role.encrypt, KeyId=key["Arn"], Plaintext=b"x") == "UnrecognizedClientException"


def test_two_users_on_the_cli(server, kms, tmp_path):
    """What the closing note shows: one user denied by a key policy, another using a grant."""
    plain_file = tmp_path / "plain"
    plain_file.write_bytes(b"hello")
    erin, _ = principal(server, "user", "erin")
    frank, _ = principal(server, "user", "frank")
    key = kms.create_key(Description="shared")["KeyMetadata"]
    denied = cli(server, erin, "encrypt", "--key-id", key["Arn"], "--plaintext", f"fileb://{plain_file}", check=False)
    assert denied.returncode != 0
    assert (f"AccessDeniedException) when calling the Encrypt operation: User: {erin['Arn']} is not authorized to perform: "
            f"kms:Encrypt on resource: {key['Arn']} because no identity-based policy allows the kms:Encrypt action") in denied.stderr
    grant = json.loads(aws_cli(server, "create-grant", "--key-id", key["KeyId"], "--grantee-principal", frank["Arn"],
                               "--operations", "Encrypt", "Decrypt", "--constraints", "EncryptionContextSubset={Department=IT}").stdout)
    out = json.loads(cli(server, frank, "encrypt", "--key-id", key["Arn"], "--plaintext", f"fileb://{plain_file}",
                         "--encryption-context", "Department=IT", "--grant-tokens", grant["GrantToken"]).stdout)
    assert out["KeyId"] == key["Arn"]
    blob = tmp_path / "blob"
    blob.write_bytes(base64.b64decode(out["CiphertextBlob"]))
    plain = json.loads(cli(server, frank, "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "Department=IT").stdout)
    assert base64.b64decode(plain["Plaintext"]) == b"hello"
    refused = cli(server, frank, "encrypt", "--key-id", key["Arn"], "--plaintext", f"fileb://{plain_file}", check=False)
    assert "AccessDeniedException" in refused.stderr
