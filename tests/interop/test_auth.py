"""SigV4 authentication and the admin commands, against a real server."""
import datetime
import json

from conftest import ACCESS_KEY, SECRET_KEY, error_code


def test_authentication_errors(server):
    status, _, body = server.raw("TrentService.ListKeys", b"{}", sign=False)
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    _, _, body = server.raw("TrentService.ListKeys", b"{}", access_key="AKIANOSUCHKEY0000000")
    assert body["__type"] == "UnrecognizedClientException"
    _, _, body = server.raw("TrentService.ListKeys", b"{}", secret_key="wrong" + SECRET_KEY)
    assert body["__type"] == "InvalidSignatureException"
    _, _, body = server.raw("TrentService.ListKeys", b"{}", authorization="AWS4-HMAC-SHA256 Credential=x")
    assert body["__type"] == "IncompleteSignatureException"
    _, _, body = server.raw("TrentService.ListKeys", b"{}", authorization="Basic Zm9vOmJhcg==")
    assert body["__type"] == "IncompleteSignatureException"
    stale = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    _, _, body = server.raw("TrentService.ListKeys", b"{}", amz_date=stale)
    assert body["__type"] == "InvalidSignatureException" and body["message"].startswith(f"Signature expired: {stale} is now earlier than")
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    _, _, body = server.raw("TrentService.ListKeys", b"{}", amz_date=future)
    assert body["__type"] == "InvalidSignatureException"
    status, _, body = server.raw("TrentService.ListKeys", b"{}")
    assert status == 200 and "Keys" in body


def test_boto3_reports_auth_errors(server):
    assert error_code(server.client(secret_key="x" * 40).list_keys) == "InvalidSignatureException"
    assert error_code(server.client(access_key="AKIAUNKNOWN000000000").list_keys) == "UnrecognizedClientException"


ALL_OF_KMS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})


def test_admin_users_authenticate_and_lose_access_when_key_deleted(server, kms):
    alice = json.loads(server.admin("create-user", "--name", "alice"))
    assert alice["Arn"] == "arn:aws:iam::111122223333:user/alice"
    as_alice = server.client(access_key=alice["AccessKeyId"], secret_key=alice["SecretAccessKey"])
    # A new user may do nothing until a policy allows it.
    assert error_code(as_alice.create_key) == "AccessDeniedException"
    server.admin("attach-policy", "--principal", "user/alice", "--policy-name", "all-kms", "--policy-document", ALL_OF_KMS)
    meta = as_alice.create_key(Description="alice's")["KeyMetadata"]
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == "alice's"
    second = json.loads(server.admin("create-access-key", "--principal", "user/alice"))
    listing = server.admin("list-principals")
    assert "arn:aws:iam::111122223333:user/alice\t" in listing and second["AccessKeyId"] in listing
    assert alice["SecretAccessKey"] not in listing and ACCESS_KEY in listing
    server.admin("delete-access-key", "--access-key-id", alice["AccessKeyId"])
    assert error_code(as_alice.list_keys) == "UnrecognizedClientException"
    server.client(access_key=second["AccessKeyId"], secret_key=second["SecretAccessKey"]).list_keys()


def test_changes_by_another_process_apply_at_the_next_request(server, kms):
    """The server keeps keys, access keys and policies in memory (CachingStore); a change made
    by `swiftkms admin` (another process) or through the API must still apply at once."""
    bob = json.loads(server.admin("create-user", "--name", "bob"))
    as_bob = server.client(access_key=bob["AccessKeyId"], secret_key=bob["SecretAccessKey"])
    server.admin("attach-policy", "--principal", "user/bob", "--policy-name", "all-kms", "--policy-document", ALL_OF_KMS)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(3):  # warm every cache on the way
        blob = as_bob.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    server.admin("tag-principal", "--principal", "user/bob", "team=blue")
    server.admin("detach-policy", "--principal", "user/bob", "--policy-name", "all-kms")
    assert error_code(lambda: as_bob.encrypt(KeyId=key_id, Plaintext=b"x")) == "AccessDeniedException"
    server.admin("attach-policy", "--principal", "user/bob", "--policy-name", "all-kms", "--policy-document", ALL_OF_KMS)
    assert as_bob.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    kms.disable_key(KeyId=key_id)
    assert error_code(lambda: as_bob.decrypt(CiphertextBlob=blob)) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert as_bob.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    server.admin("delete-principal", "--principal", "user/bob")
    assert error_code(as_bob.list_keys) == "UnrecognizedClientException"


def test_other_accounts_are_denied(server, kms):
    meta = kms.create_key()["KeyMetadata"]
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    eve = json.loads(server.admin("create-user", "--name", "eve", "--account-id", "444455556666"))
    server.admin("attach-policy", "--principal", "arn:aws:iam::444455556666:user/eve", "--policy-name", "all-kms", "--policy-document", ALL_OF_KMS)
    as_eve = server.client(access_key=eve["AccessKeyId"], secret_key=eve["SecretAccessKey"])
    assert error_code(as_eve.describe_key, KeyId=meta["Arn"]) == "AccessDeniedException"
    assert error_code(as_eve.encrypt, KeyId=meta["Arn"], Plaintext=b"x") == "AccessDeniedException"
    assert error_code(as_eve.decrypt, CiphertextBlob=blob) == "AccessDeniedException"
    assert error_code(as_eve.describe_key, KeyId=meta["KeyId"]) == "NotFoundException"
    assert meta["KeyId"] not in [k["KeyId"] for k in as_eve.list_keys()["Keys"]]
