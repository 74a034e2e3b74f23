"""Quotas as a user configures them on `swiftkms serve`: resource quotas answer
LimitExceededException, request-rate quotas ThrottlingException (which boto3 knows how to
retry), and both are off or at AWS's defaults unless set."""
import json
import time

import pytest

from conftest import Server, error_code


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("quotas") / "data",
               args=["--keys-per-region", "3", "--aliases-per-key", "1", "--grants-per-key", "1", "--key-policy-size", "2048",
                     "--request-rate", "ListKeys=0.001"]).start()
    yield s
    s.stop()


def test_resource_quotas(limited):
    kms = limited.client()
    keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)]
    assert error_code(kms.create_key) == "LimitExceededException"
    assert limited.client(region="eu-west-1").create_key()["KeyMetadata"]["Arn"].startswith("arn:aws:kms:eu-west-1:")
    kms.create_alias(AliasName="alias/one", TargetKeyId=keys[0])
    assert error_code(kms.create_alias, AliasName="alias/two", TargetKeyId=keys[0]) == "LimitExceededException"


def patient(client):
    """The client's calls, each retried while the server's request-rate quotas (AWS's,
    which `--request-rate` turns on) throttle it: this test is about resource quotas."""
    from botocore.exceptions import ClientError

    class Patient:
        def __getattr__(self, name):
            call = getattr(client, name)

            def retried(**kwargs):
                for _ in range(100):
                    try:
                        return call(**kwargs)
                    except ClientError as e:
                        if e.response["Error"]["Code"] != "ThrottlingException":
                            raise
                        time.sleep(0.1)
                return call(**kwargs)
            return retried
    return Patient()


def test_every_resource_quota_an_operation_can_meet(limited):
    """LimitExceededException from each operation whose model lists it and that a quota of
    this server bounds: grants per key, the key policy's size, on-demand rotations (25 per
    key, AWS's), aliases per key when an alias moves, keys per region when a key is
    replicated there."""
    west = patient(limited.client(region="us-west-2"))
    key = west.create_key()["KeyMetadata"]["KeyId"]
    west.create_grant(KeyId=key, GranteePrincipal="arn:aws:iam::111122223333:root", Operations=["Decrypt"])
    assert error_code(west.create_grant, KeyId=key, GranteePrincipal="arn:aws:iam::111122223333:root",
                      Operations=["Encrypt"]) == "LimitExceededException"
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
    large = {"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"s{i}") for i in range(30)]}
    assert len(json.dumps(large)) > 2048
    assert error_code(west.put_key_policy, KeyId=key, PolicyName="default", Policy=json.dumps(large)) == "LimitExceededException"
    for _ in range(25):
        west.rotate_key_on_demand(KeyId=key)
    assert error_code(west.rotate_key_on_demand, KeyId=key) == "LimitExceededException"

    west.create_alias(AliasName="alias/west-one", TargetKeyId=key)
    other = west.create_key()["KeyMetadata"]["KeyId"]
    west.create_alias(AliasName="alias/west-two", TargetKeyId=other)
    assert error_code(west.update_alias, AliasName="alias/west-two", TargetKeyId=key) == "LimitExceededException"

    south = patient(limited.client(region="ap-south-1"))
    for _ in range(3):
        south.create_key()
    primary = west.create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
    assert error_code(west.replicate_key, KeyId=primary, ReplicaRegion="ap-south-1") == "LimitExceededException"


def test_request_rate_quota(limited):
    kms = limited.client()
    kms.list_keys()
    assert error_code(kms.list_keys) == "ThrottlingException"
    # Other operations are not held back by it.
    kms.list_aliases()


def test_default_server_has_aws_resource_quotas_and_no_rate_quotas(server, kms):
    for _ in range(20):
        kms.list_keys()
