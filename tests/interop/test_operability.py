"""Running SwiftKMS in production: Prometheus metrics on their own listener, checked against
the workload that made them (parsed by prometheus_client's parser, not ours); /ready; JSON
logs; SIGTERM under load; and an online backup, restored elsewhere."""
import base64
import hashlib
import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import SECRET_KEY, STORE, Server, db_rows, free_port, swiftkms


def scrape(port):
    """{(name, labels as a sorted tuple): value} of every sample at /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, text


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_count_what_the_workload_did(tmp_path):
    metrics_port = free_port()
    server = Server(tmp_path / "data", args=["--metrics-address", f"127.0.0.1:{metrics_port}", "--key-census-interval", "1"]).start()
    try:
        kms = server.client()
        keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)]
        kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
        kms.disable_key(KeyId=keys[2])
        blobs = [kms.encrypt(KeyId=keys[0], Plaintext=b"m%d" % n)["CiphertextBlob"] for n in range(7)]
        for blob in blobs[:5]:
            kms.decrypt(CiphertextBlob=blob)
        for _ in range(2):
            with pytest.raises(botocore.exceptions.ClientError):
                kms.describe_key(KeyId="alias/missing")
        with pytest.raises(botocore.exceptions.ClientError):
            kms.encrypt(KeyId=keys[2], Plaintext=b"x")  # DisabledException
        forged = server.client(secret_key=SECRET_KEY[:-1] + "X")
        for _ in range(4):
            with pytest.raises(botocore.exceptions.ClientError):
                forged.list_keys()
        time.sleep(2.5)  # a key census after the changes
        samples, text = scrape(metrics_port)

        def requests(operation, code="OK"):
            return value(samples, "swiftkms_requests_total", operation=operation, code=code)

        assert requests("CreateKey") == 4 and requests("Encrypt") == 7 and requests("Decrypt") == 5
        assert requests("DisableKey") == 1
        assert requests("DescribeKey", "NotFoundException") == 2
        assert requests("Encrypt", "DisabledException") == 1
        assert requests("ListKeys", "InvalidSignatureException") == 4
        assert value(samples, "swiftkms_authentication_failures_total", code="InvalidSignatureException") == 4
        assert value(samples, "swiftkms_request_duration_seconds_count", operation="Encrypt") == 8
        assert value(samples, "swiftkms_request_duration_seconds_bucket", operation="Encrypt", le="+Inf") == 8
        assert value(samples, "swiftkms_requests_in_flight") == 0
        assert value(samples, "swiftkms_keys", state="Enabled", spec="SYMMETRIC_DEFAULT") == 2
        assert value(samples, "swiftkms_keys", state="Disabled", spec="SYMMETRIC_DEFAULT") == 1
        assert value(samples, "swiftkms_keys", state="Enabled", spec="HMAC_256") == 1
        # Every acknowledged change was one durable commit, through group commit.
        commits = value(samples, "swiftkms_store_commit_duration_seconds_count")
        assert commits >= 4 + 1 + 7 + 5
        assert value(samples, "swiftkms_group_commit_size_sum") >= commits
        assert value(samples, "swiftkms_cache_hits_total", cache="key") > 0
        assert value(samples, "swiftkms_job_runs_total", job="key_census", outcome="success") >= 2
        assert value(samples, "swiftkms_database_errors_total") == 0
        assert value(samples, "swiftkms_build_info", version="0.22.0") == 1
        assert abs(value(samples, "swiftkms_process_start_time_seconds") - time.time()) < 600
        # No label holds a key ID, an ARN or an access key.
        for key_id in keys:
            assert key_id not in text
        assert "arn:aws" not in text and "AKIA" not in text
        # The API's listener does not serve the metrics.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.url + "/metrics", timeout=5)
        assert missing.value.code in (404, 405)
    finally:
        server.stop()


def wait_until_ready(server):
    """/ready's answer once it is 200: the jobs' first runs may end after /health answers."""
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(server.url + "/ready", timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            assert error.code == 503 and json.loads(error.read())["status"] == "not ready"
            assert time.time() < deadline, "not ready after 30 s"
            time.sleep(0.1)


def test_ready_and_json_logs(tmp_path):
    server = Server(tmp_path / "data", args=["--log-format", "json"]).start()
    try:
        ready = wait_until_ready(server)
        assert ready["checks"]["database"] == "ok" and ready["checks"]["job: audit checkpoint"] == "ok"
        kms = server.client()
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.encrypt(KeyId=key_id, Plaintext=b"logged, never in the log")
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.stderr().splitlines() if line.strip()]
    requests = [line for line in lines if line["message"] == "request"]
    assert [r["operation"] for r in requests] == ["CreateKey", "Encrypt"]
    for line in requests:
        assert line["status"] == "200" and line["error"] == "-" and line["requestId"] and float(line["durationMs"]) > 0
        assert line["principal"].startswith("arn:aws:iam::") and line["level"] == "info" and line["time"].endswith("Z")
    assert any(line["message"] == "stopped" for line in lines)
    assert "logged, never" not in server.stderr() and SECRET_KEY not in server.stderr()


def test_sigterm_under_load_answers_every_accepted_request_and_checkpoints(tmp_path):
    """SIGTERM while four clients create keys and encrypt: the process exits 0; requests after
    it are refused at connect; every answer received is durable; no request was executed
    without its answer reaching the client (the audit trail has exactly the answered
    CreateKeys); the trail still verifies."""
    server = Server(tmp_path / "data", args=["--shutdown-timeout", "20"]).start()
    acknowledged, created_ids, failures = [], [], []
    lock = threading.Lock()
    stop = threading.Event()

    def worker():
        kms = server.client()
        while not stop.is_set():
            try:
                key_id = kms.create_key()["KeyMetadata"]["KeyId"]
                with lock:
                    created_ids.append(key_id)
                blob = kms.encrypt(KeyId=key_id, Plaintext=b"answered before SIGTERM")["CiphertextBlob"]
            except Exception as error:  # noqa: BLE001 - checked below
                with lock:
                    failures.append(error)
                return
            with lock:
                acknowledged.append((key_id, blob))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 40:
        time.sleep(0.05)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    stop.set()
    for thread in threads:
        thread.join()
    assert "stopped" in server.stderr()
    # Refused connections only: the listener closed; no answer was cut or an error.
    for error in failures:
        assert isinstance(error, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError)), repr(error)
    print(f"acknowledged {len(acknowledged)}, refused {len(failures)}")
    created = db_rows(server.data_dir, "SELECT COUNT(*) FROM audit_event WHERE event_name = 'CreateKey'")[0][0]
    # A CreateKey executed but whose answer was cut would be one event more than answers.
    assert created == len(created_ids), (created, len(created_ids))
    server.start()
    try:
        kms = server.client()
        for key_id in created_ids:
            assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"]
        for key_id, blob in acknowledged:
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"answered before SIGTERM"
    finally:
        server.stop()
    out = swiftkms("audit", "verify", "--data-dir", server.data_dir)
    assert "OK:" in out.stdout


@pytest.mark.skipif(STORE != "sqlite", reason="admin backup copies the SQLite store; PostgreSQL has its own tools")
def test_backup_under_load_restores_elsewhere_with_the_root_key_only(tmp_path):
    server = Server(tmp_path / "data").start()
    kms = server.client()
    before = []
    for n in range(10):
        key_id = kms.create_key(Description=f"before {n}")["KeyMetadata"]["KeyId"]
        before.append((key_id, kms.encrypt(KeyId=key_id, Plaintext=b"before %d" % n)["CiphertextBlob"]))
    stop = threading.Event()
    during = []

    def load():
        client = server.client()
        while not stop.is_set():
            key_id = client.create_key()["KeyMetadata"]["KeyId"]
            during.append(client.encrypt(KeyId=key_id, Plaintext=b"during")["CiphertextBlob"])

    thread = threading.Thread(target=load)
    thread.start()
    try:
        time.sleep(0.5)
        backup = str(tmp_path / "kms.backup")
        out = swiftkms("admin", "backup", "--data-dir", server.data_dir, "--out", backup)
        assert "wrote" in out.stdout
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert len(during) > 0
    assert server.stop() == 0
    assert oct(os.stat(backup).st_mode & 0o777) == "0o600"
    assert "OK:" in swiftkms("admin", "verify-backup", backup, "--root-key-file", os.path.join(server.data_dir, "root.key")).stdout
    with open(backup, "rb") as file:
        assert file.readline() == b"SWIFTKMS-BACKUP 1\n"
        manifest = json.loads(file.readline())
        database = file.read()
    assert base64.b64encode(open(os.path.join(server.data_dir, "root.key"), "rb").read().strip()) not in database
    assert manifest["counts"]["kms_key"] >= 10 and manifest["auditChainHeads"]["main"]["sequence"] > 20
    # The manifest checked by code that shares nothing with ours: hashlib and Python's sqlite3.
    assert len(database) == manifest["databaseBytes"] and hashlib.sha256(database).hexdigest() == manifest["databaseSHA256"]
    (tmp_path / "copy.sqlite3").write_bytes(database)
    copy_db = sqlite3.connect(tmp_path / "copy.sqlite3")
    try:
        assert copy_db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        for table, count in manifest["counts"].items():
            assert copy_db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == count, table
        heads = {name: (seq, digest.hex()) for name, seq, digest in copy_db.execute("SELECT name, head_seq, head_digest FROM audit_chain")}
        assert heads == {name: (head["sequence"], head["digest"]) for name, head in manifest["auditChainHeads"].items()}
    finally:
        copy_db.close()

    # Another root key: refused, with nothing written.
    wrong = tmp_path / "wrong"
    wrong.mkdir(mode=0o700)
    (wrong / "root.key").write_text(base64.b64encode(os.urandom(32)).decode() + "\n")
    os.chmod(wrong / "root.key", 0o600)
    out = swiftkms("admin", "restore", "--from", backup, "--data-dir", str(wrong), check=False)
    assert out.returncode != 0 and "not the root key this backup was taken with" in out.stderr
    assert sorted(os.listdir(wrong)) == ["root.key"]

    # The same root key, copied separately: everything acknowledged before the backup is there.
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    os.link(os.path.join(server.data_dir, "root.key"), restored / "root.key")
    assert "restored" in swiftkms("admin", "restore", "--from", backup, "--data-dir", str(restored)).stdout
    out = swiftkms("admin", "restore", "--from", backup, "--data-dir", str(restored), check=False)
    assert out.returncode != 0 and "exists" in out.stderr
    assert "OK:" in swiftkms("audit", "verify", "--data-dir", str(restored)).stdout
    copy = Server(restored).start()
    try:
        kms = copy.client()
        for n, (key_id, blob) in enumerate(before):
            assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == f"before {n}"
            assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before %d" % n
        assert len(kms.list_keys(Limit=1000)["Keys"]) == manifest["counts"]["kms_key"]
    finally:
        copy.stop()

    # A damaged file is refused.
    data = bytearray(open(backup, "rb").read())
    data[-100] ^= 1
    (tmp_path / "damaged").write_bytes(bytes(data))
    out = swiftkms("admin", "verify-backup", str(tmp_path / "damaged"), check=False)
    assert out.returncode != 0 and "SHA-256" in out.stderr
