"""Quotas as a user configures them on `swiftkms serve`: resource quotas answer
LimitExceededException, request-rate quotas ThrottlingException (which boto3 knows how to
retry), and both are off or at AWS's defaults unless set."""
import pytest

from conftest import Server, error_code


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("quotas") / "data",
               args=["--keys-per-region", "3", "--aliases-per-key", "1", "--request-rate", "ListKeys=0.001"]).start()
    yield s
    s.stop()


def test_resource_quotas(limited):
    kms = limited.client()
    keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)]
    assert error_code(kms.create_key) == "LimitExceededException"
    assert limited.client(region="eu-west-1").create_key()["KeyMetadata"]["Arn"].startswith("arn:aws:kms:eu-west-1:")
    kms.create_alias(AliasName="alias/one", TargetKeyId=keys[0])
    assert error_code(kms.create_alias, AliasName="alias/two", TargetKeyId=keys[0]) == "LimitExceededException"


def test_request_rate_quota(limited):
    kms = limited.client()
    kms.list_keys()
    assert error_code(kms.list_keys) == "ThrottlingException"
    # Other operations are not held back by it.
    kms.list_aliases()


def test_default_server_has_aws_resource_quotas_and_no_rate_quotas(server, kms):
    for _ in range(20):
        kms.list_keys()
