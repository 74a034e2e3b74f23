"""Harness for the interoperability tests: real `swiftkms serve` processes on free ports,
driven by boto3 and the AWS CLI. The binary is $SWIFTKMS_BIN (default .build/debug/swiftkms).

The store is SQLite in each server's data directory, or, with SWIFTKMS_INTEROP_STORE=postgres,
a database of its own per data directory on the PostgreSQL server SWIFTKMS_TEST_POSTGRES
(USER@HOST:PORT, trust authentication), as `scripts/test` runs the core modules a second time."""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

import uuid

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("SWIFTKMS_BIN", os.path.join(ROOT, ".build", "debug", "swiftkms"))
# boto3 and the AWS CLI (here, and the CLI processes the tests start) read the KMS model this
# server implements, AWS's newest, rather than the older one the installed botocore carries.
os.environ["AWS_DATA_PATH"] = os.path.join(ROOT, "spec", "botocore")
ACCOUNT = "111122223333"
ACCESS_KEY = "AKIAINTEROPTEST00001"
SECRET_KEY = "interop/Secret+Key/0123456789abcdefghijk"


STORE = os.environ.get("SWIFTKMS_INTEROP_STORE", "sqlite")
# The PostgreSQL database of each data directory, when STORE is postgres.
DATABASES = {}


def postgres_server():
    """(user, host, port) of SWIFTKMS_TEST_POSTGRES."""
    user, address = os.environ["SWIFTKMS_TEST_POSTGRES"].split("@")
    host, port = address.split(":")
    return user, host, int(port)


def new_database():
    """A fresh database on SWIFTKMS_TEST_POSTGRES; returns its URL."""
    import psycopg
    user, host, port = postgres_server()
    name = "interop_" + uuid.uuid4().hex[:16]
    with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return f"postgres://{user}@{host}:{port}/{name}?sslmode=disable"


def store_args(data_dir):
    """--data-dir, and --database-url when the directory's store is in PostgreSQL."""
    data_dir = str(data_dir)
    return ["--data-dir", data_dir] + (["--database-url", DATABASES[data_dir]] if data_dir in DATABASES else [])


def has_store(data_dir):
    return str(data_dir) in DATABASES or os.path.exists(os.path.join(str(data_dir), "swiftkms.sqlite3"))


def db_rows(data_dir, sql, params=()):
    """Rows of a query on the data directory's store (SQLite, or its PostgreSQL database), for
    checks that read what the server stored. `?` placeholders; blobs come back as bytes."""
    data_dir = str(data_dir)
    if data_dir in DATABASES:
        import psycopg
        user, host, port = postgres_server()
        name = DATABASES[data_dir].rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(host=host, port=port, user=user, dbname=name) as db:
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                    for row in db.execute(sql.replace("?", "%s"), params).fetchall()]
    import sqlite3
    db = sqlite3.connect(f"file:{os.path.join(data_dir, 'swiftkms.sqlite3')}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def audit_records(data_dir):
    """Every stored audit event of the data directory as (chain, sequence, sealed record), in
    chain and sequence order: the hot rows, and the segments decoded here with zlib and struct
    (the format of Sources/KMSStorage/AuditSegment.swift, read by code that shares none of it)."""
    import struct
    import zlib
    events = [(c, s, bytes(r)) for c, s, r in db_rows(data_dir, "SELECT chain, seq, record FROM audit_event")]
    for chain, first, last, blob in db_rows(data_dir, "SELECT chain, first_seq, last_seq, events FROM audit_segment"):
        data = zlib.decompress(bytes(blob))
        assert data[0] == 1, "segment format version"
        at, seq = 1, first

        def field():
            nonlocal at
            (n,) = struct.unpack_from(">I", data, at)
            at += 4
            if n == 0xFFFFFFFF:
                return None
            at += n
            return data[at - n:at]
        while at < len(data):
            at += 8 + 1  # event time, read-only flag
            for _ in range(6):  # name, account, region, user, access key, error code
                field()
            (keys,) = struct.unpack_from(">I", data, at)
            at += 4
            for _ in range(keys):
                field()
            events.append((chain, seq, field()))
            seq += 1
        assert seq == last + 1, f"segment {chain}/{first} holds {seq - first} events, not {last - first + 1}"
    return sorted(events)


def db_execute(data_dir, sql, params=()):
    """Changes the data directory's store with one statement (`?` placeholders), for a test that
    stands in for time passing; the server should be stopped. Returns the rows changed."""
    data_dir = str(data_dir)
    if data_dir in DATABASES:
        import psycopg
        user, host, port = postgres_server()
        name = DATABASES[data_dir].rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(host=host, port=port, user=user, dbname=name) as db:
            return db.execute(sql.replace("?", "%s"), params).rowcount
    import sqlite3
    db = sqlite3.connect(os.path.join(data_dir, "swiftkms.sqlite3"))
    try:
        with db:
            return db.execute(sql, params).rowcount
    finally:
        db.close()


def swiftkms(*args, check=True, timeout=120):
    """Runs the swiftkms binary; `--data-dir D` gains D's --database-url when it has one."""
    args = list(args)
    if "--data-dir" in args:
        data_dir = args[args.index("--data-dir") + 1]
        if data_dir in DATABASES and "--database-url" not in args:
            args += ["--database-url", DATABASES[data_dir]]
    out = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


# Every data directory a server of this run used, and every secret the run sent or received:
# `test_zz_audit.py` (last, by name) scans each directory's audit events for them.
DATA_DIRS = []
SECRETS = set()
SECRET_MEMBERS = ("Plaintext", "CiphertextBlob", "PrivateKeyPlaintext", "PrivateKeyCiphertextBlob", "SharedSecret",
                  "CiphertextForRecipient", "Message", "SecretAccessKey", "GrantToken", "SourceCiphertextBlob",
                  "EncryptedKeyMaterial", "ImportToken", "KeyStorePassword")


# Every (operation, error code) a client of this run was answered, whichever client it was:
# `test_zz_errors.py` (after everything else) checks them against the model's error lists.
PROVOKED = set()
CLI_ERROR = re.compile(r"An error occurred \((\w+)\) when calling the (\w+) operation")


def remember_error(operation, code):
    if operation and code:
        PROVOKED.add((operation, code.split("#")[-1]))


def remember_secrets(params):
    """Adds the secret members of a request or response (bytes or str) to SECRETS."""
    if not isinstance(params, dict):
        return
    for name in SECRET_MEMBERS:
        value = params.get(name)
        if isinstance(value, (bytes, bytearray)) and len(value) >= 8:
            SECRETS.add(bytes(value))
        elif isinstance(value, str) and len(value) >= 8:
            SECRETS.add(value.encode())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `swiftkms serve` process on a data directory; can be killed and restarted on it."""

    def __init__(self, data_dir, env=None, args=(), database_url=None, sqlite=False, tls=None):
        """`database_url` names the server's database; `sqlite` keeps it in the data directory
        even when the run's store is PostgreSQL. `tls` is (certificate, key, CA bundle): the
        server then listens with TLS, at https://localhost, and clients trust the bundle."""
        self.tls = tls
        self.data_dir = str(data_dir)
        if self.data_dir not in DATA_DIRS:
            DATA_DIRS.append(self.data_dir)
        if database_url is None and STORE == "postgres" and not sqlite and self.data_dir not in DATABASES:
            database_url = new_database()
        if database_url is not None:
            DATABASES[self.data_dir] = database_url
        self.port = free_port()
        self.env = dict(os.environ, SWIFTKMS_ROOT_ACCESS_KEY_ID=ACCESS_KEY, SWIFTKMS_ROOT_SECRET_ACCESS_KEY=SECRET_KEY)
        if env is not None:
            self.env = dict(os.environ, **env)
        self.args = list(args) + (["--tls-certificate", tls[0], "--tls-key", tls[1]] if tls else [])
        self.proc = None
        self.stdout_path = os.path.join(os.path.dirname(self.data_dir), f"serve-{os.path.basename(self.data_dir)}.out")
        self.stderr_path = self.stdout_path[:-4] + ".err"

    @property
    def url(self):
        return f"https://localhost:{self.port}" if self.tls else f"http://127.0.0.1:{self.port}"

    def ssl_context(self):
        import ssl
        return ssl.create_default_context(cafile=self.tls[2]) if self.tls else None

    def start(self):
        self.killed = False
        self.proc = subprocess.Popen(
            [BINARY, "serve", *store_args(self.data_dir), "--port", str(self.port), *self.args],
            env=self.env, stdout=open(self.stdout_path, "ab"), stderr=open(self.stderr_path, "ab"))
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.stderr()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1, context=self.ssl_context()) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def kill(self):
        """SIGKILL: no shutdown code runs. `killed` is set first: a client thread refused meanwhile
        can't ask `proc.poll()`, which answers None while this thread is in `wait()`."""
        self.killed = True
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=30)
        return self.proc.returncode if self.proc else None

    def stdout(self):
        return open(self.stdout_path, encoding="utf-8", errors="replace").read()

    def stderr(self):
        return open(self.stderr_path, encoding="utf-8", errors="replace").read()

    def client(self, region="us-east-1", access_key=ACCESS_KEY, secret_key=SECRET_KEY, validate=True):
        SECRETS.add(secret_key.encode())
        client = boto3.client(
            "kms", endpoint_url=self.url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, verify=self.tls[2] if self.tls else None,
            config=Config(retries={"max_attempts": 1}, parameter_validation=validate))
        client.meta.events.register("provide-client-params.kms.*", lambda params, **_: remember_secrets(params))
        client.meta.events.register("after-call.kms.*", lambda parsed, **_: remember_secrets(parsed))
        client.meta.events.register(
            "after-call.kms.*", lambda parsed, model, **_: remember_error(model.name, parsed.get("Error", {}).get("Code")))
        return client

    def admin(self, *args):
        out = subprocess.run([BINARY, "admin", *args, *store_args(self.data_dir)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        try:
            remember_secrets(json.loads(out.stdout))
        except ValueError:
            pass
        return out.stdout

    def raw(self, target, body, access_key=ACCESS_KEY, secret_key=SECRET_KEY, region="us-east-1",
            amz_date=None, authorization=None, sign=True):
        """POSTs `body` (bytes) with `X-Amz-Target: target`, signed by `sigv4` below.
        Returns (status, headers, parsed JSON body or None)."""
        amz_date = amz_date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Date": amz_date, "Host": f"127.0.0.1:{self.port}"}
        if target is not None:
            headers["X-Amz-Target"] = target
        if sign:
            headers["Authorization"] = authorization or sigv4(headers, body, access_key, secret_key, region, amz_date)
        request = urllib.request.Request(self.url + "/", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, hdrs, data = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, data = e.code, dict(e.headers), e.read()
        parsed = json.loads(data) if data else None
        if status >= 400 and isinstance(parsed, dict) and target and target.startswith("TrentService."):
            remember_error(target[len("TrentService."):], parsed.get("__type"))
        return status, hdrs, parsed


def sigv4(headers, body, access_key, secret_key, region, amz_date, service="kms"):
    """An independent SigV4 signer (Python standard library only) for raw requests."""
    names = sorted(h.lower() for h in headers)
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join(f"{n}:{' '.join(lower[n].split())}\n" for n in names)
    creq = "\n".join(["POST", "/", "", canonical_headers, ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"


def aws_cli(server, *args, access_key=ACCESS_KEY, secret_key=SECRET_KEY, check=True):
    """Runs `aws kms ARGS` against the server with the given credentials and no config files."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_KMS=server.url, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    out = subprocess.run(["aws", "kms", *args], capture_output=True, text=True, env=env, timeout=120)
    for code, operation in CLI_ERROR.findall(out.stderr):
        remember_error(operation, code)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def error_code(call, *args, **kwargs):
    """Runs a boto3 call that must fail; returns the error's __type as boto3 reports it."""
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]["Code"]


def b64(data):
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("kms") / "data").start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def kms(server):
    return server.client()


@pytest.fixture(scope="module")
def kms_raw(server):
    """A client that skips boto3's own parameter checks, so the server's are exercised."""
    return server.client(validate=False)


def wait_state(kms, store_id, *states):
    """Polls DescribeCustomKeyStores until the store's ConnectionState is one of `states`."""
    deadline = time.time() + 30
    while time.time() < deadline:
        entry = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
        if entry["ConnectionState"] in states:
            return entry
        time.sleep(0.1)
    raise AssertionError(f"{store_id} never reached {states}: {entry}")


def context_bytes(context):
    """The canonical encryption context of docs/ciphertext-format.md, written independently."""
    out = struct.pack(">I", len(context))
    for key in sorted(context, key=lambda k: k.encode()):
        k, v = key.encode(), context[key].encode()
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out
