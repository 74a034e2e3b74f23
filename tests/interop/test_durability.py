"""Nothing acknowledged is lost (SIGKILL, restart), restarts reuse everything, and no secret
reaches the data directory or the logs in the clear."""
import base64
import os
import signal
import threading
import time

from conftest import SECRET_KEY, STORE, Server


def test_sigkill_after_acknowledged_changes(tmp_path):
    server = Server(tmp_path / "data").start()
    kms = server.client()
    blobs = {}
    for i in range(10):
        meta = kms.create_key(Description=f"k{i}")["KeyMetadata"]
        blobs[meta["KeyId"]] = kms.encrypt(KeyId=meta["KeyId"], Plaintext=f"value {i}".encode(), EncryptionContext={"i": str(i)})["CiphertextBlob"]
    first = next(iter(blobs))
    kms.create_alias(AliasName="alias/durable", TargetKeyId=first)
    kms.disable_key(KeyId=first)
    kms.tag_resource(KeyId=first, Tags=[{"TagKey": "t", "TagValue": "v"}])
    server.kill()

    server.start()
    kms = server.client()
    assert kms.describe_key(KeyId="alias/durable")["KeyMetadata"]["KeyState"] == "Disabled"
    assert kms.list_resource_tags(KeyId=first)["Tags"] == [{"TagKey": "t", "TagValue": "v"}]
    kms.enable_key(KeyId=first)
    for i, (key_id, blob) in enumerate(blobs.items()):
        assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"i": str(i)})["Plaintext"] == f"value {i}".encode()
    server.stop()


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path):
    server = Server(tmp_path / "data").start()
    key_id = server.client().create_key()["KeyMetadata"]["KeyId"]
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def worker(n):
        kms = server.client()
        i = 0
        while not stop.is_set() and i < 2000:
            i += 1
            try:
                meta = kms.create_key(Description=f"w{n}-{i}")["KeyMetadata"]
                blob = kms.encrypt(KeyId=key_id, Plaintext=f"{n}-{i}".encode())["CiphertextBlob"]
            except Exception:
                return  # the server died mid-request: that change was never acknowledged
            with lock:
                acknowledged.append((meta["KeyId"], blob, f"{n}-{i}".encode()))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]  # commits grouped in shared transactions
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while time.time() < deadline and len(acknowledged) < 100:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert len(acknowledged) >= 20

    server.start()
    kms = server.client()
    listed = {k["KeyId"] for p in kms.get_paginator("list_keys").paginate() for k in p["Keys"]}
    for created, blob, plaintext in acknowledged:
        assert created in listed
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == plaintext
    server.stop()


def test_first_start_generates_credentials_and_restart_reuses_everything(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWIFTKMS_")}
    server = Server(tmp_path / "data", env=env).start()
    data = tmp_path / "data"
    assert oct(os.stat(data).st_mode & 0o777) == "0o700"
    for name in ("root.key", "root-credentials") + (("swiftkms.sqlite3",) if STORE == "sqlite" else ()):
        assert oct(os.stat(data / name).st_mode & 0o777) == "0o600", name
    creds = dict(line.split(" = ") for line in (data / "root-credentials").read_text().splitlines() if " = " in line)
    access, secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
    printed = server.stdout()
    assert f"AWS_ACCESS_KEY_ID={access}" in printed and f"AWS_SECRET_ACCESS_KEY={secret}" in printed
    assert secret not in server.stderr()
    kms = server.client(access_key=access, secret_key=secret)
    blob = kms.encrypt(KeyId=kms.create_key()["KeyMetadata"]["KeyId"], Plaintext=b"kept")["CiphertextBlob"]
    root_key = (data / "root.key").read_bytes()
    assert server.stop() == 0  # graceful shutdown on SIGTERM

    server.start()
    assert (data / "root.key").read_bytes() == root_key
    assert server.stdout().count("AWS_SECRET_ACCESS_KEY=") == 1  # printed once, on the first start only
    assert server.client(access_key=access, secret_key=secret).decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) == 0


def test_refuses_a_root_key_others_can_read(tmp_path):
    server = Server(tmp_path / "data").start()
    server.stop()
    os.chmod(tmp_path / "data" / "root.key", 0o644)
    try:
        server.start()
        raise AssertionError("server started with a world-readable root key")
    except RuntimeError as e:
        assert "chmod 600" in str(e)


def scan(directory, needles):
    """Names of files under `directory` that contain any of `needles` (bytes)."""
    hits = []
    for root, _, files in os.walk(directory):
        for name in files:
            content = open(os.path.join(root, name), "rb").read()
            hits += [(name, n) for n in needles if n in content]
    return hits


def test_no_plaintext_data_key_or_secret_in_data_dir_or_logs(tmp_path):
    server = Server(tmp_path / "data").start()
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    marker = b"PLAINTEXT-MARKER-0123456789abcdef"
    kms.encrypt(KeyId=key_id, Plaintext=marker)
    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["Plaintext"]
    server.kill()  # leave the WAL as a crash would
    needles = []
    for secret in (marker, data_key, SECRET_KEY.encode()):
        needles += [secret, base64.b64encode(secret), secret.hex().encode()]
    assert scan(tmp_path / "data", needles) == []
    logs = server.stderr().encode() + server.stdout().encode()
    assert [n for n in needles if n in logs] == []
    assert b"Authorization" not in logs and b"AWS4-HMAC-SHA256" not in logs
    # The scans above mean something only if the requests were logged at all.
    assert logs.count(b"principal=arn:aws:iam::111122223333:root") >= 3
