"""CloudTrail's LookupEvents on the server's endpoint: boto3's CloudTrail client and the AWS
CLI's `aws cloudtrail lookup-events`, unchanged, page through the audit trail. Every answer is
checked against the stored trail read by this test alone (SQLite or PostgreSQL rows, segments
decoded with zlib and struct by conftest.audit_records)."""
import datetime
import json
import os
import subprocess
import time

import boto3
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, ACCOUNT, SECRET_KEY, Server, audit_records, db_rows, error_code, sigv4

TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


def cloudtrail(server, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    return boto3.client(
        "cloudtrail", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, config=Config(retries={"max_attempts": 1}))


def user(server, name, policy=None, account=None):
    extra = ["--account-id", account] if account else []
    key = json.loads(server.admin("create-user", "--name", name, *extra))
    if policy is not None:
        server.admin("attach-policy", "--principal", f"user/{name}", "--policy-name", "p", "--policy-document", json.dumps(policy), *extra)
    return key


def trail(server, account=ACCOUNT, region="us-east-1"):
    """The account's events in the region, as stored, newest first (time, then chain, then
    sequence: the order LookupEvents pages in)."""
    events = []
    for chain, seq, record in audit_records(server.data_dir):
        parsed = json.loads(record)
        if parsed.get("recipientAccountId") == account and parsed.get("awsRegion") == region:
            events.append((chain, seq, record, parsed))
    events.sort(key=lambda e: (-millis_of(e[3]["eventID"]), e[0], -e[1]))
    return events


def millis_of(event_id):
    """The millisecond a time-ordered (version 7) UUID names: its first 48 bits."""
    assert event_id[14] == "7", event_id
    return int(event_id.replace("-", "")[:12], 16)


def every_page(client, **kwargs):
    pages = list(client.get_paginator("lookup_events").paginate(**kwargs))
    return pages, [event for page in pages for event in page["Events"]]


def wait_sealed(server, segments):
    deadline = time.time() + 30
    while db_rows(server.data_dir, "SELECT COUNT(*) FROM audit_segment")[0][0] < segments:
        assert time.time() < deadline, "the sealing job did not run"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("lookup") / "data", args=["--audit-segment-size", "4"]).start()
    kms = s.client()
    key = kms.create_key(Description="looked up")["KeyMetadata"]
    kms.create_alias(AliasName="alias/looked-up", TargetKeyId=key["KeyId"])
    for n in range(12):
        kms.encrypt(KeyId=key["KeyId"], Plaintext=b"event %d" % n)
    other = kms.create_key()["KeyMetadata"]
    kms.describe_key(KeyId=other["KeyId"])
    s.key, s.other = key, other
    s.auditor = user(s, "auditor", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["cloudtrail:LookupEvents", "kms:DescribeKey"], "Resource": "*"}]})
    s.nobody = user(s, "nobody", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    s.client(access_key=s.nobody["AccessKeyId"], secret_key=s.nobody["SecretAccessKey"]).list_keys()
    wait_sealed(s, 3)
    yield s
    s.stop()


def test_pages_hold_the_stored_trail_byte_for_byte(server):
    """Every event of the account and region, once, newest first, across hot rows and sealed
    segments; each CloudTrailEvent is the stored record itself."""
    expected = trail(server)
    pages, events = every_page(cloudtrail(server), PaginationConfig={"PageSize": 5})
    assert len(pages) > 3 and all(len(page["Events"]) <= 5 for page in pages)
    assert all("NextToken" in page for page in pages[:-1]) and "NextToken" not in pages[-1]
    # LookupEvents calls are events too: the ones made by this pagination after it began are not in `expected`.
    ids = [e["EventId"] for e in events]
    assert len(ids) == len(set(ids))
    stored = {p["eventID"]: (r, p) for _, _, r, p in expected}
    looked_up = [e for e in events if e["EventId"] in stored]
    assert [e["EventId"] for e in looked_up] == [p["eventID"] for _, _, _, p in expected if p["eventID"] in ids]
    assert len(looked_up) == len(expected)
    # Each event ID names the event's stored millisecond (what a lookup by ID relies on).
    hot = db_rows(server.data_dir, "SELECT event_ms, record FROM audit_event")
    assert hot and all(millis_of(json.loads(bytes(r))["eventID"]) == m for m, r in hot)
    assert db_rows(server.data_dir, "SELECT COUNT(*) FROM audit_segment")[0][0] >= 3, "some answers came from segments"
    for event in looked_up:
        record, parsed = stored[event["EventId"]]
        assert event["CloudTrailEvent"].encode() == record
        assert event["EventName"] == parsed["eventName"] and event["EventSource"] == parsed["eventSource"]
        assert event["ReadOnly"] == ("true" if parsed["readOnly"] else "false")
        assert event["EventTime"] == datetime.datetime.strptime(parsed["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        assert event.get("AccessKeyId") == parsed["userIdentity"].get("accessKeyId")
        assert [(r["ResourceType"], r["ResourceName"]) for r in event["Resources"]] == [(r["type"], r["ARN"]) for r in parsed["resources"]]
    names = {e["EventName"]: e for e in looked_up}
    assert names["CreateKey"]["Username"] == "root" and names["CreateAccessKey"]["Username"] == "swiftkms-admin"
    assert names["ListKeys"]["Username"] == "nobody"


@pytest.mark.parametrize("attribute", ["EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId", "EventId"])
def test_each_lookup_attribute_finds_exactly_its_events(server, attribute):
    expected = trail(server)
    key_arn = server.key["Arn"]
    cases = {
        "EventName": ("Encrypt", lambda p: p["eventName"] == "Encrypt"),
        "ReadOnly": ("false", lambda p: not p["readOnly"]),
        "Username": ("nobody", lambda p: p["userIdentity"].get("userName") == "nobody"),
        "ResourceType": ("AWS::IAM::Principal", lambda p: any(r["type"] == "AWS::IAM::Principal" for r in p["resources"])),
        "ResourceName": (key_arn, lambda p: any(r["ARN"] == key_arn for r in p["resources"])),
        "EventSource": ("iam.amazonaws.com", lambda p: p["eventSource"] == "iam.amazonaws.com"),
        "AccessKeyId": (server.nobody["AccessKeyId"], lambda p: p["userIdentity"].get("accessKeyId") == server.nobody["AccessKeyId"]),
        "EventId": (next(p["eventID"] for _, _, _, p in expected if p["eventName"] == "CreateAlias"), lambda p: p["eventName"] == "CreateAlias"),
    }
    value, matches = cases[attribute]
    _, events = every_page(cloudtrail(server), LookupAttributes=[{"AttributeKey": attribute, "AttributeValue": value}])
    wanted = [p["eventID"] for _, _, _, p in expected if matches(p) and p["eventName"] != "LookupEvents"]
    assert wanted, attribute
    found = [e["EventId"] for e in events if e["EventName"] != "LookupEvents"]
    assert found == wanted


def test_a_key_id_names_the_same_events_as_its_arn(server):
    client = cloudtrail(server)
    by_id = [e["EventId"] for e in every_page(client, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": server.key["KeyId"]}])[1]]
    by_arn = [e["EventId"] for e in every_page(client, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": server.key["Arn"]}])[1]]
    assert by_id == by_arn and len(by_id) == 14  # CreateKey, CreateAlias, 12 Encrypts


def test_time_range_is_inclusive_to_the_second(server):
    expected = trail(server)
    create = next(p for _, _, _, p in expected if p["eventName"] == "CreateKey")
    at = datetime.datetime.strptime(create["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    _, events = every_page(cloudtrail(server), StartTime=at, EndTime=at)
    assert create["eventID"] in [e["EventId"] for e in events]
    assert all(e["EventTime"] == at for e in events)
    assert every_page(cloudtrail(server), StartTime=datetime.datetime(2000, 1, 1), EndTime=datetime.datetime(2000, 1, 2))[1] == []


def test_refusals_name_cloudtrails_errors(server):
    client = cloudtrail(server)
    two = [{"AttributeKey": "EventName", "AttributeValue": "Encrypt"}, {"AttributeKey": "Username", "AttributeValue": "root"}]
    assert error_code(client.lookup_events, LookupAttributes=two) == "InvalidLookupAttributesException"
    assert error_code(client.lookup_events, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "maybe"}]) == "InvalidLookupAttributesException"
    assert error_code(client.lookup_events, MaxResults=51) == "InvalidMaxResultsException"
    assert error_code(client.lookup_events, StartTime=datetime.datetime(2026, 2, 1), EndTime=datetime.datetime(2026, 1, 1)) == "InvalidTimeRangeException"
    assert error_code(client.lookup_events, NextToken="not-a-token") == "InvalidNextTokenException"
    token = client.lookup_events(MaxResults=1)["NextToken"]
    assert error_code(client.lookup_events, NextToken=token, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}]) == "InvalidNextTokenException"
    assert client.lookup_events(MaxResults=1, NextToken=token)["Events"]
    assert client.lookup_events(EventCategory="insight")["Events"] == []
    # What botocore would refuse before sending, sent as it is: the model's own checks.
    status, _, body = raw(server, {"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "x"}]})
    assert status == 400 and body["__type"] == "InvalidLookupAttributesException", body
    status, _, body = raw(server, {"EventCategory": "outsight"})
    assert status == 400 and body["__type"] == "InvalidEventCategoryException", body
    status, _, body = raw(server, {"MaxResults": "50"})
    assert status == 400 and body["__type"] == "SerializationException", body


def raw(server, body, service="cloudtrail", target=TARGET):
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Date": amz_date, "Host": f"127.0.0.1:{server.port}",
               "X-Amz-Target": target}
    headers["Authorization"] = sigv4(headers, data, ACCESS_KEY, SECRET_KEY, "us-east-1", amz_date, service=service)
    return server.raw(target, data, authorization=headers["Authorization"], amz_date=amz_date)


def test_a_request_signed_for_kms_is_refused(server):
    status, _, body = raw(server, {}, service="kms")
    assert status == 400 and body["__type"] == "InvalidSignatureException" and "'cloudtrail'" in body["message"], body
    # and a KMS operation signed for cloudtrail
    status, _, body = raw(server, {}, service="cloudtrail", target="TrentService.ListKeys")
    assert status == 400 and body["__type"] == "InvalidSignatureException" and "'kms'" in body["message"], body


def test_identity_policies_decide_and_accounts_stay_apart(server):
    auditor = cloudtrail(server, server.auditor["AccessKeyId"], server.auditor["SecretAccessKey"])
    assert len(auditor.lookup_events(MaxResults=50)["Events"]) == 50
    nobody = cloudtrail(server, server.nobody["AccessKeyId"], server.nobody["SecretAccessKey"])
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as refused:
        nobody.lookup_events()
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: cloudtrail:LookupEvents on resource: * "
        "because no identity-based policy allows the cloudtrail:LookupEvents action")
    # Another account's principal sees its own account's trail, none of this one's.
    stranger = user(server, "stranger", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}]},
                    account="444455556666")
    theirs = every_page(cloudtrail(server, stranger["AccessKeyId"], stranger["SecretAccessKey"]))[1]
    assert theirs and all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == "444455556666" for e in theirs)
    # Each lookup is in the trail as the caller's CloudTrail read, refusals included.
    lookups = [p for _, _, _, p in trail(server) if p["eventName"] == "LookupEvents"]
    assert {(p["eventSource"], p["readOnly"]) for p in lookups} == {("cloudtrail.amazonaws.com", True)}
    refusal = next(p for p in lookups if p["userIdentity"].get("userName") == "nobody")
    assert refusal["errorCode"] == "AccessDeniedException"
    assert any(p["userIdentity"].get("userName") == "auditor" and p["requestParameters"] == {"maxResults": 50} for p in lookups)


def test_the_aws_cli_looks_up_events(server):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    out = subprocess.run(
        ["aws", "cloudtrail", "lookup-events", "--endpoint-url", server.url, "--lookup-attributes",
         f"AttributeKey=ResourceName,AttributeValue={server.key['KeyId']}", "--page-size", "3", "--output", "json"],
        capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)["Events"]
    # The CLI follows NextToken itself: all 14 of the key's events, 3 a request.
    assert len(events) == 14 and {e["EventName"] for e in events} == {"CreateKey", "CreateAlias", "Encrypt"}


def test_a_scan_of_a_large_trail_answers_in_bounded_steps(tmp_path):
    """A lookup no index narrows (EventSource) over more segments than one request may inflate
    answers with what is final and a NextToken; following the tokens finds every match."""
    s = Server(tmp_path / "data", args=["--audit-segment-size", "2"]).start()
    try:
        kms = s.client()
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        for n in range(300):
            kms.encrypt(KeyId=key, Plaintext=b"x")
        wait_sealed(s, 140)
        client = cloudtrail(s)
        first = client.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}])
        assert first["Events"] == [] and "NextToken" in first, "the first 64 segments hold no IAM event"
        pages, events = every_page(client, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}])
        wanted = [p["eventID"] for _, _, _, p in trail(s) if p["eventSource"] == "iam.amazonaws.com"]
        assert [e["EventId"] for e in events] == wanted and len(wanted) == 2 and len(pages) >= 3
    finally:
        s.stop()
