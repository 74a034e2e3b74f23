"""Regression tests for the findings of the security review of 33cfde3, each tried as the
attacker tried it: against a real `swiftkms serve`, with raw HTTP where an SDK would not send
what an attacker sends. Each fails on 33cfde3."""
import concurrent.futures
import datetime
import http.client
import json
import os
import socket
import sqlite3
import threading
import time
import unicodedata

from conftest import ACCESS_KEY, DATABASES, SECRET_KEY, Server, b64, db_rows, error_code, sigv4, swiftkms
from test_aws_managed_keys import forward_token, forwarding_client

ACCOUNT = "111122223333"
OTHER = "444455556666"


def amz_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def send(server, headers, body=b"", timeout=30):
    """POSTs with exactly the header lines given (repeats included); returns (status, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.putrequest("POST", "/", skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


def signed_headers(server, target, body, sign_names=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """The headers of a signed request; `sign_names` limits which of them the signature covers."""
    date = amz_now()
    headers = {"Host": f"127.0.0.1:{server.port}", "X-Amz-Date": date, "X-Amz-Target": target,
               "Content-Type": "application/x-amz-json-1.1"}
    covered = {k: v for k, v in headers.items() if sign_names is None or k.lower() in sign_names}
    auth = sigv4(covered, body, access_key, secret_key, "us-east-1", date)
    return list(headers.items()) + [("Authorization", auth)]


def lookup(server, *args):
    return json.loads(swiftkms("audit", "lookup", "--data-dir", server.data_dir, "--output", "json", *args).stdout)


def user(server, name, policy=None, account=None):
    extra = ["--account-id", account] if account else []
    key = json.loads(server.admin("create-user", "--name", name, *extra))
    if policy is not None:
        server.admin("attach-policy", "--principal", f"user/{name}", "--policy-name", "p", "--policy-document", json.dumps(policy), *extra)
    return key, server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def identity(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


# 1. Alias hijack

def test_update_alias_needs_permission_on_the_alias_and_both_keys(server, kms):
    victim = kms.create_key(Description="victim")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/victim", TargetKeyId=victim)
    _, alice = user(server, "alias-alice", identity({"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}))
    own_policy = identity({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
                          {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alias-alice"}, "Action": "kms:*", "Resource": "*"})
    own = alice.create_key(Policy=json.dumps(own_policy))["KeyMetadata"]["KeyId"]
    # Allowed on her own key by its policy, but not on the alias nor on the key it points to.
    assert error_code(alice.update_alias, AliasName="alias/victim", TargetKeyId=own) == "AccessDeniedException"
    assert error_code(alice.delete_alias, AliasName="alias/victim") == "AccessDeniedException"
    assert error_code(alice.create_alias, AliasName="alias/hers", TargetKeyId=own) == "AccessDeniedException"
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/victim"] == victim and "alias/hers" not in aliases
    blob = kms.encrypt(KeyId="alias/victim", Plaintext=b"for the victim's eyes")["CiphertextBlob"]
    assert error_code(alice.decrypt, CiphertextBlob=blob) == "AccessDeniedException"


# 2, 7, 12. What an anonymous client costs

def data_dir_bytes(path):
    """The data directory's size with the write-ahead log checkpointed into the database (its
    file keeps its high-water size otherwise, whatever it holds); on PostgreSQL, the size of
    the tables and their indexes. The server must be stopped."""
    if str(path) in DATABASES:
        return int(db_rows(path, "SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables")[0][0])
    with sqlite3.connect(os.path.join(path, "swiftkms.sqlite3")) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(path) for f in files)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def unsigned_flood(server, count, body, user_agent, workers=8):
    def one(_):
        status, out = send(server, [("Host", "x"), ("X-Amz-Target", "TrentService.ListKeys"), ("User-Agent", user_agent),
                                    ("Content-Type", "application/x-amz-json-1.1")], body)
        return status, out["__type"]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))


def test_unsigned_requests_cost_a_bounded_amount_of_disk(tmp_path):
    """1,000 unsigned requests with 1 MiB bodies and 60 KB User-Agents grow the data directory
    no more than 1,000 empty ones do (33cfde3: 22.7 MB for 20), while signed requests are served."""
    growth = {}
    for name, body, agent in (("empty", b"", "probe"), ("hostile", b'{"Tags":[' + b"{}," * 349_000 + b"{}]}", "A" * 60_000)):
        server = Server(tmp_path / name).start()
        kms = server.client()
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        server.stop()  # sizes compared with the WAL checkpointed into the database
        before = data_dir_bytes(server.data_dir)
        server.start()
        kms = server.client()
        served = []

        def signed_load():
            for _ in range(50):
                served.append(kms.encrypt(KeyId=key, Plaintext=b"meanwhile")["KeyId"])
                time.sleep(0.02)

        loader = threading.Thread(target=signed_load)
        loader.start()
        results = unsigned_flood(server, 1000, body, agent)
        loader.join()
        assert set(results) == {(400, "MissingAuthenticationTokenException")}
        assert len(served) == 50, "signed requests are served during the flood"
        events = lookup(server, "--errors-only", "--event-name", "ListKeys")
        assert len(events) == 10, "at most 10 refusals a minute from one address get an event of their own"
        for event in events:
            assert event["requestParameters"] is None and len(event["userAgent"]) <= 256
            assert event["userIdentity"] == {"type": "Unknown"}
        assert server.stop() == 0
        growth[name] = data_dir_bytes(server.data_dir) - before
    assert growth["hostile"] <= growth["empty"] + 64 * 1024, growth


def test_refusals_beyond_the_limit_are_summarized(tmp_path):
    server = Server(tmp_path / "data").start()
    unsigned_flood(server, 40, b"", "probe", workers=4)
    # The summary of a window is written when it ends (a minute), or at shutdown.
    assert server.stop() == 0
    assert len(lookup(server, "--event-name", "ListKeys")) == 10
    [summary] = lookup(server, "--event-name", "AuthenticationFailureSummary")
    assert summary["serviceEventDetails"]["suppressedRefusals"] == 30
    assert summary["serviceEventDetails"]["bySourceIPAddress"] == [{"sourceIPAddress": "127.0.0.1", "count": 30}]
    swiftkms("audit", "verify", "--data-dir", server.data_dir)


def test_the_body_is_neither_read_nor_parsed_before_authentication(tmp_path):
    server = Server(tmp_path / "data").start()
    try:
        pid = server.proc.pid
        body = b'{"Tags":[' + b"{}," * 349_000 + b"{}]}"
        before = rss_kib(pid)
        # Signed with a key this server does not know: refused before the body is read.
        headers = signed_headers(server, "TrentService.TagResource", body, access_key="AKIANOBODYKNOWS00001")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: send(server, headers, body)[1]["__type"], range(32)))
        assert set(results) == {"UnrecognizedClientException"}
        # With a known key and a wrong signature: read (to hash it) but never parsed.
        headers = signed_headers(server, "TrentService.TagResource", body, secret_key="wrong-secret-0123456789")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: send(server, headers, body)[1]["__type"], range(32)))
        assert set(results) == {"InvalidSignatureException"}
        grown = rss_kib(pid) - before
        assert grown < 96 * 1024, f"RSS grew by {grown} KiB"  # 33cfde3: about 390 MiB
        refused = lookup(server, "--event-name", "TagResource")
        assert refused and all(e["userIdentity"]["type"] == "Unknown" and e["requestParameters"] is None for e in refused)
        assert all("arn" not in e["userIdentity"] for e in refused), "a claimed access key proves no identity"
    finally:
        server.stop()


# 3, 9. Headers the signature must decide

def test_repeated_headers_are_refused(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    body = json.dumps({"KeyId": key}).encode()
    headers = signed_headers(server, "TrentService.DescribeKey", body)
    assert send(server, headers, body)[0] == 200
    token = ("X-SwiftKMS-Forward-Access-Token", "t")
    for repeated in ([("Authorization", "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/kms/aws4_request, SignedHeaders=x-swiftkms-forward-access-token, Signature=00")],
                     [("X-Amz-Target", "TrentService.DisableKey")], [("X-Amz-Date", amz_now())], [("Host", "elsewhere")], [token, token]):
        status, out = send(server, headers + repeated, body)
        assert (status, out["__type"]) == (400, "IncompleteSignatureException"), repeated
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


def test_target_must_be_signed(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    body = json.dumps({"KeyId": key}).encode()
    captured = signed_headers(server, "TrentService.DescribeKey", body, sign_names={"host", "x-amz-date"})
    replayed = [(n, "TrentService.DisableKey" if n == "X-Amz-Target" else v) for n, v in captured]
    status, out = send(server, replayed, body)
    assert (status, out["__type"]) == (400, "InvalidSignatureException")
    assert "x-amz-target" in out["message"]
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


# 4, 5. Service principals

def test_service_credentials_alone_act_as_nobody(server, kms):
    svc = json.loads(server.admin("create-service-principal", "--service", "batch.amazonaws.com"))
    bob_key, bob = user(server, "fwd-bob", identity({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    root_arn = f"arn:aws:iam::{ACCOUNT}:root"
    # The old way (naming any principal) is refused, and so is no token at all.
    assert error_code(forwarding_client(server, svc, root_arn, header="X-SwiftKMS-On-Behalf-Of").disable_key, KeyId=key) == "AccessDeniedException"
    service_alone = server.client(access_key=svc["AccessKeyId"], secret_key=svc["SecretAccessKey"])
    assert error_code(service_alone.disable_key, KeyId=key) == "AccessDeniedException"
    # With bob's token the service acts as bob, and only as bob.
    token = forward_token(server, bob_key, "batch.amazonaws.com", duration=60)
    as_bob = forwarding_client(server, svc, token)
    assert as_bob.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key
    denied_bob = forward_token(server, bob_key, "batch.amazonaws.com")
    server.admin("detach-policy", "--principal", "user/fwd-bob", "--policy-name", "p")
    assert error_code(forwarding_client(server, svc, denied_bob).describe_key, KeyId=key) == "AccessDeniedException"
    # A token for another service, or made by a service, is refused.
    other = json.loads(server.admin("create-service-principal", "--service", "glue.amazonaws.com"))
    assert error_code(forwarding_client(server, other, token).describe_key, KeyId=key) == "AccessDeniedException"
    status, _, out = server.raw("SwiftKMS.CreateForwardAccessToken", b'{"ServicePrincipal":"glue.amazonaws.com"}',
                                access_key=svc["AccessKeyId"], secret_key=svc["SecretAccessKey"])
    assert (status, out["__type"]) == (400, "AccessDeniedException")
    for body, code in ((b'{"ServicePrincipal":"nothere.amazonaws.com"}', "NotFoundException"),
                       (b'{"ServicePrincipal":"batch.amazonaws.com","DurationSeconds":86400}', "ValidationException")):
        assert server.raw("SwiftKMS.CreateForwardAccessToken", body)[2]["__type"] == code
    # A deleted and recreated bob does not inherit the old bob's tokens.
    fresh = forward_token(server, bob_key, "batch.amazonaws.com")
    server.admin("delete-principal", "--principal", "user/fwd-bob")
    user(server, "fwd-bob", identity({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    assert error_code(forwarding_client(server, svc, fresh).describe_key, KeyId=key) == "AccessDeniedException"
    # The token is never recorded.
    assert not any(token in json.dumps(e) for e in lookup(server))


def test_service_principals_are_scoped_to_their_account(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=key, GranteePrincipal="foo.amazonaws.com", Operations=["Encrypt", "DescribeKey"])
    mine = json.loads(server.admin("create-service-principal", "--service", "foo.amazonaws.com"))
    theirs = json.loads(server.admin("create-service-principal", "--service", "foo.amazonaws.com", "--account-id", OTHER))
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}"
    assert server.client(access_key=mine["AccessKeyId"], secret_key=mine["SecretAccessKey"]).encrypt(KeyId=arn, Plaintext=b"x")
    stranger = server.client(access_key=theirs["AccessKeyId"], secret_key=theirs["SecretAccessKey"])
    assert error_code(stranger.encrypt, KeyId=arn, Plaintext=b"x") == "AccessDeniedException"
    assert error_code(stranger.describe_key, KeyId=arn) == "AccessDeniedException"


# 6. ListRetirableGrants

def test_list_retirable_grants_only_for_the_callers_account(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    json.loads(server.admin("create-user", "--name", "retirer", "--account-id", OTHER))
    kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{OTHER}:user/retirer", Operations=["Encrypt"],
                     RetiringPrincipal=f"arn:aws:iam::{OTHER}:user/retirer", Name="secret-name")
    other_root = json.loads(server.admin("create-access-key", "--principal", "root", "--account-id", OTHER))
    # Account B may list what B's principal can retire (AWS includes other accounts' keys) ...
    theirs = server.client(access_key=other_root["AccessKeyId"], secret_key=other_root["SecretAccessKey"])
    assert [g["Name"] for g in theirs.list_retirable_grants(RetiringPrincipal=f"arn:aws:iam::{OTHER}:user/retirer")["Grants"]] == ["secret-name"]
    # ... but account A may not list B's principals' grants, nor learn who exists.
    assert error_code(kms.list_retirable_grants, RetiringPrincipal=f"arn:aws:iam::{OTHER}:user/retirer") == "AccessDeniedException"
    assert error_code(kms.list_retirable_grants, RetiringPrincipal=f"arn:aws:iam::{OTHER}:user/nobody") == "AccessDeniedException"
    assert kms.list_retirable_grants(RetiringPrincipal=f"arn:aws:iam::{ACCOUNT}:user/nobody-here")["Grants"] == []


# 8. HTTP timeouts and a connection limit

def test_slow_and_idle_connections_are_closed(tmp_path):
    server = Server(tmp_path / "data", args=["--body-timeout", "2", "--idle-timeout", "3", "--max-connections", "4"]).start()
    try:
        def closed_by_server(sock):
            sock.settimeout(60)
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        return True
            except (ConnectionResetError, socket.timeout):
                return False

        # A body announced as 1,000 bytes of which 3 arrive.
        slow = socket.create_connection(("127.0.0.1", server.port))
        headers = signed_headers(server, "TrentService.ListKeys", b"x" * 1000)
        head = "POST / HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers) + "Content-Length: 1000\r\n\r\n"
        slow.sendall(head.encode() + b"{}x")
        assert closed_by_server(slow)
        # Headers trickling in, and an idle keep-alive connection.
        trickle = socket.create_connection(("127.0.0.1", server.port))
        trickle.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        assert closed_by_server(trickle)
        idle = socket.create_connection(("127.0.0.1", server.port))
        assert closed_by_server(idle)
        # At most 4 connections: a fifth waits until one closes.
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        time.sleep(0.5)
        waiting = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        answered = []
        t = threading.Thread(target=lambda: (waiting.request("GET", "/health"), answered.append(waiting.getresponse().status)))
        t.start()
        t.join(1.0)
        assert answered == [], "the fifth connection is not served while four are open"
        for s in held:
            s.close()
        t.join(60)
        assert answered == [200]
    finally:
        server.stop()


# 10. A changed root secret

def test_a_changed_root_secret_replaces_the_old_one(tmp_path):
    data = tmp_path / "data"
    server = Server(data).start()
    server.client().list_keys()
    server.stop()
    rotated = "rotated/Secret+Key/0123456789abcdefghijk"
    server = Server(data, env={"SWIFTKMS_ROOT_ACCESS_KEY_ID": ACCESS_KEY, "SWIFTKMS_ROOT_SECRET_ACCESS_KEY": rotated}).start()
    try:
        assert error_code(server.client().list_keys) == "InvalidSignatureException"
        assert "Keys" in server.client(secret_key=rotated).list_keys()
        assert "secret replaced" in server.stderr()
        assert rotated not in server.stderr() and rotated not in server.stdout()
    finally:
        server.stop()


# 11. Exact comparison of context values

def test_grant_constraints_and_policies_compare_bytes(server, kms):
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    carol_key, carol = user(server, "nfc-carol")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/nfc-carol", Operations=["Encrypt"],
                     Constraints={"EncryptionContextSubset": {"k": nfc}})
    assert carol.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"k": nfc})
    assert error_code(carol.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"k": nfd}) == "AccessDeniedException"
    policy = identity({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
                      {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
                       "Condition": {"StringNotEquals": {"kms:EncryptionContext:k": nfc}}})
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy, ensure_ascii=False))
    assert kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"k": nfc})
    assert error_code(kms.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext={"k": nfd}) == "AccessDeniedException"


# 13. Bounded encryption context

def test_encryption_context_is_bounded(kms_raw, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    huge = {f"key{i}": "v" * 100 for i in range(8000)}
    assert error_code(kms_raw.encrypt, KeyId=key, Plaintext=b"x", EncryptionContext=huge) == "ValidationException"
    assert kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"k": "v" * 8000})


# What the bad-input sweep found answered 200

def test_bodies_and_values_aws_refuses(server, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    cases = [
        ("TrentService.DescribeKey", b'{"KeyId":"%s",}' % key.encode(), "SerializationException"),
        ("TrentService.Encrypt", json.dumps({"KeyId": key, "Plaintext": "===="}).encode(), "SerializationException"),
        ("TrentService.GenerateRandom", b"\xef\xbb\xbf{}", "SerializationException"),
        ("TrentService.ListGrants", json.dumps({"KeyId": key, "GranteePrincipal": "é"}).encode(), "ValidationException"),
        ("TrentService.CreateCustomKeyStore", b"{}", "ValidationException"),
        ("TrentService.ConnectCustomKeyStore", b'{"CustomKeyStoreId":""}', "ValidationException"),
        ("TrentService.CreateCustomKeyStore", b'{"CustomKeyStoreName":"x"}', "ValidationException"),
    ]
    for target, body, code in cases:
        status, _, out = server.raw(target, body)
        assert (status, out["__type"]) == (400, code), (target, body)
    blob = kms.encrypt(KeyId=key, Plaintext=b"never to a recipient")["CiphertextBlob"]
    body = json.dumps({"CiphertextBlob": b64(blob), "Recipient": {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
                                                                  "AttestationDocument": b64(b"not a document")}}).encode()
    status, _, out = server.raw("TrentService.Decrypt", body)
    assert (status, out["__type"]) == (400, "UnsupportedOperationException") and "Plaintext" not in out


# 14. A principal deleted and created again inherits nothing

def test_a_recreated_user_inherits_no_policy_or_grant(server, kms):
    _, dave = user(server, "dave")
    dave_arn = f"arn:aws:iam::{ACCOUNT}:user/dave"
    policy = identity({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
                      {"Effect": "Allow", "Principal": {"AWS": dave_arn}, "Action": ["kms:Encrypt", "kms:DescribeKey"], "Resource": "*"})
    by_policy = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    by_grant = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_grant(KeyId=by_grant, GranteePrincipal=dave_arn, RetiringPrincipal=dave_arn, Operations=["Encrypt"])
    assert dave.encrypt(KeyId=by_policy, Plaintext=b"x") and dave.encrypt(KeyId=by_grant, Plaintext=b"x")

    server.admin("delete-principal", "--principal", "user/dave")
    _, new_dave = user(server, "dave")
    assert error_code(new_dave.encrypt, KeyId=by_policy, Plaintext=b"x") == "AccessDeniedException"
    assert error_code(new_dave.encrypt, KeyId=by_grant, Plaintext=b"x") == "AccessDeniedException"
    # As AWS shows them: the policy and the grant name the old user's unique ID.
    shown = json.loads(kms.get_key_policy(KeyId=by_policy, PolicyName="default")["Policy"])
    named = shown["Statement"][1]["Principal"]["AWS"]
    assert named.startswith("AIDA") and len(named) == 21
    [grant] = kms.list_grants(KeyId=by_grant)["Grants"]
    assert grant["GranteePrincipal"] == named and grant["RetiringPrincipal"] == named
    # The policy as shown can be put back as it is.
    kms.put_key_policy(KeyId=by_policy, PolicyName="default", Policy=json.dumps(shown))
    assert error_code(new_dave.encrypt, KeyId=by_policy, Plaintext=b"x") == "AccessDeniedException"


def test_a_refused_forward_token_is_recorded_as_the_service(server, kms):
    svc = json.loads(server.admin("create-service-principal", "--service", "athena.amazonaws.com"))
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    client = forwarding_client(server, svc, "swkfat1.forged")
    assert error_code(client.describe_key, KeyId=key) == "AccessDeniedException"
    [event] = [e for e in lookup(server, "--event-name", "DescribeKey", "--errors-only") if e["userIdentity"].get("invokedBy") == "athena.amazonaws.com"]
    assert event["userIdentity"]["type"] == "AWSService" and event["requestParameters"] is None
