"""TLS: `serve --tls-certificate/--tls-key` with a certificate from `admin
create-tls-certificate`, used by three clients that trust its CA (boto3, the AWS CLI, and the
AWS SDK for Ruby, Debian's ruby-aws-sdk-kms), refused by one that does not; TLS 1.2/1.3 only;
aws:SecureTransport; the key file's permissions; a SIGHUP certificate rotation under load."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ACCESS_KEY, ACCOUNT, SECRET_KEY, Server, swiftkms


def make_certificate(directory, *hostnames):
    """(certificate, key, CA) files made by `swiftkms admin create-tls-certificate`."""
    args = []
    for name in hostnames or ("localhost", "127.0.0.1"):
        args += ["--hostname", name]
    swiftkms("admin", "create-tls-certificate", "--out-dir", str(directory), *args)
    files = [os.path.join(str(directory), name) for name in ("tls-certificate.pem", "tls-key.pem", "tls-ca.pem")]
    assert oct(os.stat(files[1]).st_mode & 0o777) == "0o600"
    return files


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("tls")
    server = Server(base / "data", tls=make_certificate(base / "certs")).start()
    yield server
    assert server.stop() == 0


def cli(server, *args, ca=None):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_CA_BUNDLE", None)
    if ca:
        env["AWS_CA_BUNDLE"] = ca
    return subprocess.run(["aws", "--endpoint-url", server.url, "kms", *args], capture_output=True, text=True, env=env, timeout=60)


def test_boto3_the_cli_and_the_ruby_sdk_work_over_tls(tls_server, tmp_path):
    kms = tls_server.client()
    key_id = kms.create_key(Description="over TLS")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"sent over TLS", EncryptionContext={"t": "1"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"t": "1"})["Plaintext"] == b"sent over TLS"

    out = cli(tls_server, "describe-key", "--key-id", key_id, ca=tls_server.tls[2])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["KeyMetadata"]["Description"] == "over TLS"

    # A second SDK, in another language: the AWS SDK for Ruby (Debian's ruby-aws-sdk-kms).
    (tmp_path / "blob").write_bytes(blob)
    script = """
        require "aws-sdk-kms"
        kms = Aws::KMS::Client.new(endpoint: ARGV[0], region: "us-east-1", ssl_ca_bundle: ARGV[1],
                                   credentials: Aws::Credentials.new(ARGV[2], ARGV[3]))
        plain = kms.decrypt(ciphertext_blob: File.binread(ARGV[4]), encryption_context: {"t" => "1"}).plaintext
        made = kms.generate_data_key(key_id: ARGV[5], key_spec: "AES_256")
        puts [plain, made.plaintext.bytesize, kms.decrypt(ciphertext_blob: made.ciphertext_blob).plaintext == made.plaintext].join(",")
    """
    ruby = subprocess.run(
        ["ruby", "-e", script, tls_server.url, tls_server.tls[2], ACCESS_KEY, SECRET_KEY, str(tmp_path / "blob"), key_id],
        capture_output=True, text=True, timeout=120)
    assert ruby.returncode == 0, ruby.stderr
    assert ruby.stdout.strip() == "sent over TLS,32,true"


def test_a_client_that_does_not_trust_the_ca_is_refused(tls_server, tmp_path):
    untrusting = boto3.client(
        "kms", endpoint_url=tls_server.url, region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.SSLError):
        untrusting.list_keys()
    other_ca = make_certificate(tmp_path / "other")[2]
    out = cli(tls_server, "list-keys", ca=other_ca)
    assert out.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in out.stderr
    # Plain HTTP to the TLS port gets no KMS answer.
    with pytest.raises(Exception):
        boto3.client("kms", endpoint_url=f"http://127.0.0.1:{tls_server.port}", region_name="us-east-1",
                     aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                     config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5)).list_keys()


def handshake(server, version):
    """The TLS version negotiated when the client offers only `version`, or the error."""
    context = ssl.create_default_context(cafile=server.tls[2])
    context.minimum_version = context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that the client offers it, and the server must refuse
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.version(), tls.cipher()[0]
    except (ssl.SSLError, ConnectionError) as error:
        return "refused", str(error)


def test_only_tls_1_2_and_1_3_with_forward_secret_aead_ciphers(tls_server):
    assert handshake(tls_server, ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
    version, cipher = handshake(tls_server, ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2" and cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher), cipher
    for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        outcome, error = handshake(tls_server, old)
        assert outcome == "refused" and "ALERT_PROTOCOL_VERSION" in error, error
    # A TLS 1.2 client offering only CBC suites finds nothing in common.
    context = ssl.create_default_context(cafile=tls_server.tls[2])
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA")
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
            context.wrap_socket(raw, server_hostname="localhost")


def test_a_handshake_never_finished_is_closed_at_the_idle_timeout(tmp_path):
    """Before authentication nothing costly: a client that connects and never completes the
    TLS handshake holds its connection only for --idle-timeout."""
    server = Server(tmp_path / "data", args=["--idle-timeout", "2"], tls=make_certificate(tmp_path / "certs")).start()
    try:
        for opening in (b"", b"\x16\x03\x01\x00\x05\x01\x00"):  # nothing; a ClientHello cut short
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw:
                raw.sendall(opening)
                assert raw.recv(16) == b""  # closed by the server, long before the socket's 20 s timeout
    finally:
        server.stop()


def test_secure_transport_is_true_over_tls_only(tls_server, tmp_path):
    """A key policy that denies requests not made over TLS: the TLS server allows them, a
    plain HTTP server (same policy) refuses them."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    kms = tls_server.client()
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["KeyId"].endswith(key_id)

    plain = Server(tmp_path / "plain").start()
    try:
        kms = plain.client()
        key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            kms.encrypt(KeyId=key_id, Plaintext=b"x")
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "plain HTTP" in plain.stderr() and "url=http://127.0.0.1" in plain.stderr()
    finally:
        plain.stop()


def test_refuses_a_tls_key_others_can_read_and_an_incomplete_pair(tmp_path):
    certificate, key, _ = make_certificate(tmp_path / "certs")
    os.chmod(key, 0o640)
    out = swiftkms("serve", "--data-dir", str(tmp_path / "data"), "--port", "1",
                   "--tls-certificate", certificate, "--tls-key", key, check=False)
    assert out.returncode != 0 and "chmod 600" in out.stderr
    out = swiftkms("serve", "--data-dir", str(tmp_path / "data"), "--tls-certificate", certificate, check=False)
    assert out.returncode != 0 and "--tls-key" in out.stderr


def test_plain_http_on_a_public_address_warns(tmp_path):
    server = Server(tmp_path / "data", args=["--host", "0.0.0.0"]).start()
    try:
        assert "plain HTTP on a non-loopback address" in server.stderr()
    finally:
        server.stop()


def test_sighup_rotates_the_certificate_under_load_without_losing_a_request(tmp_path):
    first = make_certificate(tmp_path / "first")
    second = make_certificate(tmp_path / "second")
    live = [str(tmp_path / "live-cert.pem"), str(tmp_path / "live-key.pem"), str(tmp_path / "bundle.pem")]
    shutil.copy(first[0], live[0])
    shutil.copy(first[1], live[1])
    os.chmod(live[1], 0o600)
    with open(live[2], "w") as bundle:
        bundle.write(open(first[2]).read() + open(second[2]).read())
    server = Server(tmp_path / "data", tls=live).start()
    key_id = server.client().create_key()["KeyMetadata"]["KeyId"]
    stop = threading.Event()
    results = {"ok": 0, "errors": []}
    lock = threading.Lock()

    def worker(fresh_connections):
        kms = server.client()
        while not stop.is_set():
            if fresh_connections:
                kms = server.client()  # a new connection, so a new handshake, each time
            try:
                blob = kms.encrypt(KeyId=key_id, Plaintext=b"rotation")["CiphertextBlob"]
                assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"rotation"
                with lock:
                    results["ok"] += 1
            except Exception as error:  # noqa: BLE001 - every failure is the test's finding
                with lock:
                    results["errors"].append(repr(error))

    def issuer():
        context = ssl.create_default_context(cafile=live[2])
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                return dict(item[0] for item in tls.getpeercert()["issuer"])["commonName"]

    threads = [threading.Thread(target=worker, args=(n % 2 == 0,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        before = issuer()
        time.sleep(1)
        shutil.copy(second[0], live[0])
        shutil.copy(second[1], live[1])
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while issuer() == before and time.time() < deadline:
            time.sleep(0.1)
        after = issuer()
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert before != after, "the new certificate was not served after SIGHUP"
    assert results["errors"] == [] and results["ok"] > 20, results
    assert "TLS certificate and key reloaded" in server.stderr()
    # A reload that fails (a key others can read) keeps the certificate being served.
    os.chmod(live[1], 0o644)
    server.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert issuer() == after and server.client().list_keys()["Keys"]
    assert "TLS certificate and key reload failed" in server.stderr()
    assert server.stop() == 0
