"""The audit trail after everything else in the run (this module's name sorts last): every
server's events verify, none holds a secret the run used, lookups answer as CloudTrail's
LookupEvents, and tampering with the database or an export is caught."""
import base64
import gzip
import hashlib
import json
import os
import shutil
import sqlite3

import pytest

from conftest import ACCESS_KEY, DATA_DIRS, SECRET_KEY, STORE, SECRETS, audit_records, aws_cli, db_rows, error_code, has_store, swiftkms


def records(data_dir):
    return [record for _, _, record in audit_records(data_dir)]


def run_dirs():
    """The data directories of the run; the scans mean something only after the whole suite
    (scripts/test sets SWIFTKMS_FULL_INTEROP=1, and then they must have it)."""
    dirs = [d for d in DATA_DIRS if has_store(d)]
    if len(dirs) < 10 and not os.environ.get("SWIFTKMS_FULL_INTEROP"):
        pytest.skip("run with the whole interop suite")
    assert len(dirs) >= 10, "the scan needs the other modules' servers"
    return dirs


def canonical(value):
    """The canonical JSON of docs/audit.md, written by Python's json rather than our code."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_every_server_of_the_run_has_a_trail_that_verifies():
    dirs = run_dirs()
    total = 0
    for d in dirs:
        out = swiftkms("audit", "verify", "--data-dir", d)
        assert out.stdout.startswith("OK:"), out.stdout
        total += len(records(d))
    assert total > 1000


def test_chains_check_out_with_pythons_json_and_hashlib():
    """Each stored record is canonical JSON as Python writes it, and names the SHA-256 of the
    record before it in its chain: the chain format, checked by code that shares none of ours."""
    for d in run_dirs():
        rows = audit_records(d)
        bases = {name: bytes(digest).hex() for name, digest in db_rows(d, "SELECT name, base_digest FROM audit_chain")}
        previous = {}
        for chain, seq, record in rows:
            parsed = json.loads(record)
            assert canonical(parsed) == record, f"{d} {chain}/{seq} is not canonical"
            links = parsed["additionalEventData"]
            assert links["auditChain"] == chain and links["auditSequence"] == seq
            expected = previous.get(chain, bases[chain])
            assert links["previousEventDigest"] == expected, f"{d} {chain}/{seq}"
            previous[chain] = hashlib.sha256(record).hexdigest()


def test_no_event_of_the_run_holds_a_secret():
    """Plaintexts, ciphertexts, data keys, private keys, shared secrets, messages, grant tokens
    and secret access keys the run sent or received, in raw, base64 and hex form; and no
    Authorization header or signature."""
    dirs = run_dirs()
    forms = set()
    for secret in SECRETS:
        forms.add(base64.b64encode(secret).decode())
        forms.add(secret.hex())
        try:
            text = secret.decode()
            if text.isprintable():
                forms.add(json.dumps(text)[1:-1])
        except UnicodeDecodeError:
            pass
    forms = {f for f in forms if len(f) >= 12}
    assert len(forms) > 500, "too few secrets collected: is the boto3 hook in conftest registered?"
    text = "\n".join(r.decode() for d in dirs for r in records(d))
    leaked = [f for f in forms if f in text]
    assert leaked == [], f"{len(leaked)} secrets in audit events, e.g. {leaked[0][:40]}…"
    for marker in ("Signature=", "SignedHeaders=", "Credential=", SECRET_KEY):
        assert marker not in text


@pytest.fixture(scope="module")
def trail(server, kms):
    """A few requests of known shape: allowed, refused by policy, refused at authentication."""
    key = kms.create_key(Description="audited")["KeyMetadata"]
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"audit me not", EncryptionContext={"case": "1234"})["CiphertextBlob"]
    assert error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"case": "9999"}) == "InvalidCiphertextException"
    bad = server.client(secret_key="not-the-secret-0123456789")
    assert error_code(bad.list_keys) == "InvalidSignatureException"
    stranger = server.client(access_key="AKIANOBODYKNOWS00001")
    assert error_code(stranger.list_keys) == "UnrecognizedClientException"
    aws_cli(server, "describe-key", "--key-id", key["KeyId"])
    return key


def lookup(server, *args):
    out = swiftkms("audit", "lookup", "--data-dir", server.data_dir, "--output", "json", *args)
    return json.loads(out.stdout)


def test_events_have_cloudtrail_shape(server, trail):
    create = lookup(server, "--event-name", "CreateKey")[0]
    assert create["eventSource"] == "kms.amazonaws.com" and create["eventType"] == "AwsApiCall"
    assert create["userIdentity"] == {"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root",
                                      "accountId": "111122223333", "accessKeyId": ACCESS_KEY}
    assert create["responseElements"]["keyMetadata"]["keyId"] == trail["KeyId"]
    assert create["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": trail["Arn"]}]
    assert create["readOnly"] is False and create["recipientAccountId"] == "111122223333"
    assert create["sourceIPAddress"] == "127.0.0.1" and "Boto3" in create["userAgent"]

    encrypt = lookup(server, "--event-name", "Encrypt")[0]
    assert encrypt["requestParameters"] == {"keyId": trail["KeyId"], "encryptionContext": {"case": "1234"}}
    assert encrypt["responseElements"] is None and encrypt["readOnly"] is True

    failed = lookup(server, "--event-name", "Decrypt", "--errors-only")[0]
    assert failed["errorCode"] == "InvalidCiphertextException"
    assert failed["requestParameters"] == {"encryptionContext": {"case": "9999"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def test_requests_refused_at_authentication_are_recorded(server, trail):
    refused = {e["errorCode"]: e for e in lookup(server, "--event-name", "ListKeys", "--errors-only")}
    # The request proved no identity: recorded as unauthenticated, with the key it claimed.
    assert refused["InvalidSignatureException"]["userIdentity"] == {"type": "Unknown", "accessKeyId": ACCESS_KEY}
    assert refused["InvalidSignatureException"]["requestParameters"] is None
    unknown = refused["UnrecognizedClientException"]["userIdentity"]
    assert unknown == {"type": "Unknown", "accessKeyId": "AKIANOBODYKNOWS00001"}
    assert [e["eventName"] for e in lookup(server, "--access-key-id", "AKIANOBODYKNOWS00001")] == ["ListKeys"]


def test_lookup_filters(server, trail):
    by_key = lookup(server, "--resource-name", trail["Arn"])
    assert {e["eventName"] for e in by_key} == {"CreateKey", "Encrypt", "Decrypt", "DescribeKey"}
    assert [e["eventName"] for e in lookup(server, "--username", "root", "--read-only", "false")] == ["CreateKey"]
    times = [e["eventTime"] for e in lookup(server)]
    assert times == sorted(times, reverse=True)
    assert lookup(server, "--start-time", "2000-01-01T00:00:00Z", "--end-time", "2000-01-02T00:00:00Z") == []
    table = swiftkms("audit", "lookup", "--data-dir", server.data_dir, "--resource-name", trail["KeyId"]).stdout
    assert table.splitlines()[0].split() == ["TIME", "EVENT", "WHO", "RESOURCE", "SOURCE", "IP", "ERROR"]
    assert "DescribeKey" in table and "InvalidCiphertextException" in table


@pytest.mark.skipif(STORE != "sqlite", reason="edits the SQLite file (test_nodes.py tampers with PostgreSQL)")
def test_row_deleted_with_sqlite_is_caught(server, trail, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(server.data_dir, copy)
    assert swiftkms("audit", "verify", "--data-dir", str(copy)).stdout.startswith("OK:")
    db = sqlite3.connect(copy / "swiftkms.sqlite3")
    db.execute("DELETE FROM audit_event WHERE seq = 3")
    db.commit()
    db.close()
    out = swiftkms("audit", "verify", "--data-dir", str(copy), check=False)
    assert out.returncode == 1
    assert "event 3 is missing" in out.stdout


def test_export_is_cloudtrail_files_that_verify_with_the_public_key_alone(server, trail, tmp_path):
    out = tmp_path / "export"
    swiftkms("audit", "export", "--data-dir", server.data_dir, "--out", str(out))
    pem = tmp_path / "audit.pem"
    pem.write_text(swiftkms("audit", "public-key", "--data-dir", server.data_dir).stdout)
    verified = swiftkms("audit", "verify", "--export", str(out), "--public-key", str(pem))
    assert verified.stdout.startswith("OK:")
    # The digest file checks out with `cryptography` and hashlib too: its ECDSA signature over
    # its canonical JSON, and the SHA-256 of every log file it lists.
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    digest_path = next(os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs if "_CloudTrail-Digest_" in f)
    digest = json.loads(gzip.decompress(open(digest_path, "rb").read()))
    signature = base64.b64decode(digest.pop("digestSignature"))
    serialization.load_pem_public_key(pem.read_bytes()).verify(signature, canonical(digest), ec.ECDSA(hashes.SHA256()))
    for entry in digest["logFiles"]:
        content = gzip.decompress(open(out / entry["s3Object"], "rb").read())
        assert hashlib.sha256(content).hexdigest() == entry["hashValue"]
    logs = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs if "_CloudTrail_" in f]
    assert logs and all(os.path.basename(p).startswith("111122223333_CloudTrail_us-east-1_") for p in logs
                        if "/111122223333/" in p)
    exported = [r for p in logs for r in json.loads(gzip.decompress(open(p, "rb").read()))["Records"]]
    assert {"CreateKey", "Encrypt", "Decrypt"} <= {r["eventName"] for r in exported}
    # Drop one record from a log file: caught, with the public key alone.
    victim = next(p for p in logs if len(json.loads(gzip.decompress(open(p, "rb").read()))["Records"]) > 2)
    body = json.loads(gzip.decompress(open(victim, "rb").read()))
    del body["Records"][1]
    open(victim, "wb").write(gzip.compress(json.dumps(body).encode()))
    broken = swiftkms("audit", "verify", "--export", str(out), "--public-key", str(pem), check=False)
    assert broken.returncode == 1 and "missing" in broken.stdout, broken.stdout


def test_events_of_acknowledged_requests_survive_sigkill(tmp_path):
    from conftest import Server
    s = Server(tmp_path / "data").start()
    kms = s.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for i in range(25):
        kms.encrypt(KeyId=key, Plaintext=b"x" * 16, EncryptionContext={"n": str(i)})
    s.kill()
    events = json.loads(swiftkms("audit", "lookup", "--data-dir", s.data_dir, "--output", "json", "--event-name", "Encrypt",
                                 "--max-results", "100").stdout)
    assert sorted(int(e["requestParameters"]["encryptionContext"]["n"]) for e in events) == list(range(25))
    assert swiftkms("audit", "verify", "--data-dir", s.data_dir).stdout.startswith("OK:")


def test_key_last_usage_comes_from_the_audit_trail(server, kms, trail):
    fresh = kms.create_key()["KeyMetadata"]
    unused = kms.get_key_last_usage(KeyId=fresh["KeyId"])
    assert unused["KeyId"] == fresh["Arn"] and "KeyLastUsage" not in unused
    assert unused["KeyCreationDate"] == fresh["CreationDate"] and unused["TrackingStartDate"] >= fresh["CreationDate"]
    # The trail's key: its last successful cryptographic operation was the Encrypt (the
    # Decrypt after it failed, and DescribeKey is no cryptographic operation).
    usage = kms.get_key_last_usage(KeyId=trail["KeyId"])["KeyLastUsage"]
    encrypt = lookup(server, "--event-name", "Encrypt", "--resource-name", trail["KeyId"])[0]
    assert usage["Operation"] == "Encrypt"
    assert usage["CloudTrailEventId"] == encrypt["eventID"] and usage["KmsRequestId"] == encrypt["requestID"]
    kms.generate_data_key(KeyId=trail["KeyId"], KeySpec="AES_256")
    assert kms.get_key_last_usage(KeyId=trail["KeyId"])["KeyLastUsage"]["Operation"] == "GenerateDataKey"


def test_events_sealed_into_segments_still_verify_look_up_and_export(tmp_path):
    """A server sealing every 4 events: the segments hold about 100 bytes per event of real
    traffic, the chain (decoded and checked by Python alone) and `audit verify` pass across
    segments and hot rows, lookups and GetKeyLastUsage find sealed events, the export holds
    every event, and a record altered inside a segment is caught."""
    import time
    import zlib
    from conftest import Server, db_execute
    s = Server(tmp_path / "data", args=["--audit-segment-size", "4"]).start()
    try:
        kms = s.client()
        early = kms.create_key()["KeyMetadata"]["KeyId"]
        used_once = kms.encrypt(KeyId=early, Plaintext=b"once")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        for i in range(40):
            kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"n": str(i)})
        deadline = time.time() + 30
        while db_rows(s.data_dir, "SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) FROM audit_segment")[0][0] < 36:
            assert time.time() < deadline, "events were not sealed"
            time.sleep(0.2)
        hot = db_rows(s.data_dir, "SELECT COUNT(*) FROM audit_event")[0][0]
        assert 4 <= hot < 12, f"{hot} events left hot"
        # The early Encrypt is in a segment now: lookups and GetKeyLastUsage still find it.
        found = json.loads(swiftkms("audit", "lookup", "--data-dir", s.data_dir, "--output", "json",
                                    "--resource-name", early, "--event-name", "Encrypt").stdout)
        assert len(found) == 1
        usage = kms.get_key_last_usage(KeyId=early)["KeyLastUsage"]
        assert usage["Operation"] == "Encrypt" and usage["CloudTrailEventId"] == found[0]["eventID"]
        assert usage["KmsRequestId"] == used_once["ResponseMetadata"]["RequestId"]
        contexts = json.loads(swiftkms("audit", "lookup", "--data-dir", s.data_dir, "--output", "json", "--event-name", "Encrypt",
                                       "--resource-name", key, "--max-results", "100").stdout)
        assert sorted(int(e["requestParameters"]["encryptionContext"]["n"]) for e in contexts) == list(range(40))
    finally:
        s.stop()
    events = audit_records(s.data_dir)
    previous = bytes(32).hex()
    for n, (chain, seq, record) in enumerate(events, start=1):
        parsed = json.loads(record)
        assert (chain, seq) == (events[0][0], n) and canonical(parsed) == record
        assert parsed["additionalEventData"]["previousEventDigest"] == previous
        previous = hashlib.sha256(record).hexdigest()
    assert swiftkms("audit", "verify", "--data-dir", s.data_dir).stdout.startswith("OK:")
    out = tmp_path / "export"
    swiftkms("audit", "export", "--data-dir", s.data_dir, "--out", str(out))
    exported = [json.loads(gzip.decompress(open(os.path.join(d, f), "rb").read()))["Records"]
                for d, _, fs in os.walk(out) for f in fs if "_CloudTrail_" in f]
    assert sorted(canonical(r) for file in exported for r in file) == sorted(r for _, _, r in events)
    # One byte of one sealed record changed, and the segment compressed again: caught.
    chain, first, blob = db_rows(s.data_dir, "SELECT chain, first_seq, events FROM audit_segment ORDER BY first_seq LIMIT 1 OFFSET 2")[0]
    data = zlib.decompress(bytes(blob))
    forged = data.replace(b'"eventName":"Encrypt"', b'"eventName":"Encrypu"', 1)
    assert forged != data
    assert db_execute(s.data_dir, "UPDATE audit_segment SET events = ? WHERE chain = ? AND first_seq = ?",
                      (zlib.compress(forged), chain, first)) == 1
    broken = swiftkms("audit", "verify", "--data-dir", s.data_dir, check=False)
    assert broken.returncode == 1 and "is broken" in broken.stdout, broken.stdout
