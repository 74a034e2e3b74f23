"""A bad-input sweep driven by the AWS model (spec/kms-2014-11-01.service.json, the newest,
2026-05-20): for each of the 54 operations, signed requests with wrong JSON types, lengths and
ranges at and beyond every bound, bad base64, unknown and wrong-case enum values, pattern
violations, missing required and unknown members, hostile Unicode, deep nesting, 1,000-entry
maps and lists; and body-level junk (empty, null, truncated, duplicate members, a byte order
mark, over-size, a wrong Content-Type, a missing or unknown X-Amz-Target).

Every answer must be one of AWS's errors, as JSON with a `__type` the model (or AWS's common
errors) names, never a 5xx, never a hang; a 200 only for a request the model allows (decided
here by an independent reading of the model's constraints, `violates`). The server must stay
healthy throughout."""
import base64
import datetime
import http.client
import json
import os
import re
import urllib.request

from conftest import ACCESS_KEY, ROOT, SECRET_KEY, sigv4

MODEL = json.load(open(os.path.join(ROOT, "spec", "kms-2014-11-01.service.json")))
SHAPES = MODEL["shapes"]
COMMON_ERRORS = {"SerializationException", "ValidationException", "UnknownOperationException", "AccessDeniedException",
                 "IncompleteSignatureException", "InvalidSignatureException", "MissingAuthenticationTokenException",
                 "UnrecognizedClientException", "ThrottlingException", "UnsupportedOperationException", "DryRunOperationException",
                 "InvalidParameterValueException", "MissingParameterException", "MalformedQueryString"}
MODEL_ERRORS = {name for name, shape in SHAPES.items() if shape.get("exception")}
ERRORS = COMMON_ERRORS | MODEL_ERRORS

def filler(n):
    """n characters of a text no secret of the run is made of (the audit scan of
    test_zz_audit looks for the run's secrets in every stored event, and this text is audited)."""
    return ("sweep-" * (n // 6 + 1))[:n]


WRONG_TYPES = [12345, 1.5, True, [], {}, "text", None, -1]
HOSTILE_STRINGS = ["", "é", "a b", "\u0000", "\u202eevil", "\ud800", "😀" * 10, "../../etc/passwd", "%00", "é" * 5000,
                   "arn:aws:kms:us-east-1:111122223333:key/../../x", "alias/" + filler(300), "\r\nX-Injected: 1"]
BAD_BASE64 = ["====", "@@@", "AAA", "AA=A", "YQ", "é", "A" * 5, "AAAA====", " AAAA"]


class Sweep:
    def __init__(self, server):
        self.server = server
        self.count = 0
        self.failures = []
        self.conn = None

    def connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        return self.conn

    def send(self, target, body, content_type="application/x-amz-json-1.1", label="", must_fail=True):
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers = {"Host": f"127.0.0.1:{self.server.port}", "X-Amz-Date": date}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if target is not None:
            headers["X-Amz-Target"] = target
        headers["Authorization"] = sigv4(headers, body, ACCESS_KEY, SECRET_KEY, "us-east-1", date)
        self.count += 1
        try:
            conn = self.connection()
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            status, data = response.status, response.read()
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException) as error:
            self.conn = None
            self.failures.append((label, target, "no answer", repr(error)))
            return
        if status >= 500:
            self.failures.append((label, target, status, data[:200]))
            return
        if status == 200:
            if must_fail:
                self.failures.append((label, target, "200 for a request the model forbids", data[:120]))
            return
        try:
            kind = json.loads(data).get("__type")
        except ValueError:
            kind = None
        if kind not in ERRORS:
            self.failures.append((label, target, status, data[:200]))

    def request(self, operation, body, label, must_fail):
        self.send(f"TrentService.{operation}", json.dumps(body).encode(), label=f"{operation}: {label}", must_fail=must_fail)


def violates(shape_name, value):
    """Whether `value` breaks the model's constraints for the shape (null counts as absent)."""
    if value is None:
        return False
    shape = SHAPES[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    if kind == "string":
        if not isinstance(value, str):
            return True
        try:
            units = len(value.encode("utf-16-le")) // 2
        except UnicodeEncodeError:
            return True  # a lone surrogate: not a string any parser keeps
        if (lo is not None and units < lo) or (hi is not None and units > hi):
            return True
        if "enum" in shape and value not in shape["enum"]:
            return True
        return "pattern" in shape and re.fullmatch(shape["pattern"], value, re.ASCII) is None
    if kind == "blob":
        if not isinstance(value, str) or not re.fullmatch(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?", value):
            return True
        size = len(base64.b64decode(value))
        return (lo is not None and size < lo) or (hi is not None and size > hi)
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            return True
        return (lo is not None and value < lo) or (hi is not None and value > hi)
    if kind == "boolean":
        return not isinstance(value, bool)
    if kind == "timestamp":
        return isinstance(value, bool) or not isinstance(value, (int, float))
    if kind == "list":
        if not isinstance(value, list) or (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            return True
        return any(violates(shape["member"]["shape"], item) for item in value)
    if kind == "map":
        if not isinstance(value, dict) or (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            return True
        return any(violates(shape["key"]["shape"], k) or violates(shape["value"]["shape"], v) for k, v in value.items())
    if kind == "structure":
        if not isinstance(value, dict):
            return True
        members = shape.get("members", {})
        if any(value.get(name) is None for name in shape.get("required", [])):
            return True
        return any(violates(members[name]["shape"], v) for name, v in value.items() if name in members)
    return False


def valid(shape_name, member=None, key_id=None):
    """A plausible value of a shape: the real key for key references, the first enum value
    (SYMMETRIC_DEFAULT where it is one: no RSA key generation per request), the minimum size."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    if kind == "string":
        if member in ("KeyId", "TargetKeyId", "SourceKeyId", "DestinationKeyId") and key_id:
            return key_id
        if "enum" in shape:
            return "SYMMETRIC_DEFAULT" if "SYMMETRIC_DEFAULT" in shape["enum"] else shape["enum"][0]
        if member == "AliasName":
            return "alias/sweep"
        return filler(max(shape.get("min", 1), 1))
    if kind == "blob":
        return base64.b64encode(b"\x01" * max(shape.get("min", 1), 1)).decode()
    if kind in ("integer", "long"):
        return max(shape.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return 1_900_000_000
    if kind == "list":
        return [valid(shape["member"]["shape"], key_id=key_id)] * max(shape.get("min", 1), 1)
    if kind == "map":
        return {"k": valid(shape["value"]["shape"], key_id=key_id)}
    if kind == "structure":
        return {name: valid(ref["shape"], name, key_id) for name, ref in shape.get("members", {}).items()
                if name in shape.get("required", [])}
    return None


def bad_values(shape_name, member, key_id):
    """Values of a member that break its shape, with what they break."""
    shape = SHAPES[shape_name]
    kind = shape["type"]
    out = [(f"type {type(v).__name__}", v) for v in WRONG_TYPES]
    lo, hi = shape.get("min"), shape.get("max")
    if kind == "string":
        for n in {0, 1, (lo or 1) - 1, lo or 1, hi or 0, (hi or 0) + 1}:
            if n >= 0 and n <= 300_000:
                out.append((f"length {n}", filler(n)))
        out += [(f"hostile {s[:12]!r}", s) for s in HOSTILE_STRINGS]
        for value in shape.get("enum", [])[:2]:
            out += [("enum lowercase", value.lower()), ("enum padded", value + " "), ("enum unknown", value + "_NOT")]
        if "pattern" in shape:
            out += [("pattern é", "é" * max(lo or 1, 1)), ("pattern space", " " * max(lo or 1, 1)), ("pattern slash", "/" * max(lo or 1, 1))]
    elif kind == "blob":
        for n in {0, (lo or 1) - 1, hi or 0, (hi or 0) + 1}:
            if 0 <= n <= 300_000:
                out.append((f"bytes {n}", base64.b64encode(b"\x02" * n).decode()))
        out += [(f"base64 {b!r}", b) for b in BAD_BASE64]
    elif kind in ("integer", "long"):
        for n in {(lo or 0) - 1, (hi or 0) + 1, 2**31, -2**31 - 1, 2**63, 10**30}:
            out.append((f"number {n}", n))
        out += [("float", 1e300), ("string number", "5")]
    elif kind == "list":
        item = valid(shape["member"]["shape"], key_id=key_id)
        out += [("empty list", []), ("list of 1000", [item] * 1000), ("list max+1", [item] * ((hi or 0) + 1)),
                ("list of wrong items", [None, 5, "x", {}])]
    elif kind == "map":
        value = valid(shape["value"]["shape"], key_id=key_id)
        out += [("map of 1000", {f"k{i}": value for i in range(1000)}), ("map of objects", {"k": {"a": 1}}),
                ("map with empty key", {"": value}), ("map with hostile keys", {s: value for s in HOSTILE_STRINGS if s})]
    elif kind == "structure":
        out += [("struct unknown member", {"Nope": 1}), ("struct of wrong members", {m: [] for m in shape.get("members", {})})]
    out += [("deep list", json.loads("[" * 100 + "]" * 100)), ("deep object", json.loads('{"a":' * 100 + "1" + "}" * 100))]
    return out


def sweep_operation(sweep, operation, key_id):
    input_name = MODEL["operations"][operation].get("input", {}).get("shape")
    shape = SHAPES[input_name] if input_name else {"members": {}, "required": []}
    base = valid(input_name, key_id=key_id) if input_name else {}
    def request(body, label):
        sweep.request(operation, body, label, must_fail=input_name is not None and violates(input_name, body))

    request(base, "valid")
    members = shape.get("members", {})
    for name, ref in members.items():
        for label, value in bad_values(ref["shape"], name, key_id):
            request(dict(base, **{name: value}), f"{name} {label}")
        # One level down: members of structures.
        inner = SHAPES[ref["shape"]]
        if inner["type"] == "structure":
            inner_base = valid(ref["shape"], key_id=key_id)
            for inner_name, inner_ref in inner.get("members", {}).items():
                for label, value in bad_values(inner_ref["shape"], inner_name, key_id)[:12]:
                    request(dict(base, **{name: dict(inner_base, **{inner_name: value})}), f"{name}.{inner_name} {label}")
    for name in shape.get("required", []):
        request({k: v for k, v in base.items() if k != name}, f"missing {name}")
    request(dict(base, UnknownMember=1), "unknown member")
    for name in list(members)[:3]:
        if name in base:
            request({(k.lower() if k == name else k): v for k, v in base.items()}, f"lowercase {name}")
    # Body-level junk.
    target = f"TrentService.{operation}"
    text = json.dumps(base).encode()
    # An empty body is an empty object, as AWS takes it.
    sweep.send(target, b"", label=f"{operation}: body empty", must_fail=input_name is not None and violates(input_name, {}))
    for label, body in (("null", b"null"), ("array", b"[]"), ("string", b'"x"'), ("number", b"1"),
                        ("truncated", text[:-1]), ("trailing comma", text[:-1] + b',}' if len(text) > 2 else b'{,}'),
                        ("duplicate member", b'{"A":1,"A":2}' if not base else text[:-1] + b"," + text[1:]),
                        ("byte order mark", b"\xef\xbb\xbf" + text), ("not UTF-8", b'{"KeyId":"\xff\xfe"}'),
                        ("over-size", b'{"Description":"' + filler(1 << 20).encode() + b'"}'), ("deep", b"[" * 10_000 + b"]" * 10_000)):
        sweep.send(target, body, label=f"{operation}: body {label}")
    sweep.send(target, text, content_type="text/plain", label=f"{operation}: Content-Type text/plain")
    sweep.send(f"TrentService.{operation.lower()}", text, label=f"{operation}: lowercase target")


def test_model_driven_sweep(server, kms):
    key_id = kms.create_key(Description="sweep")["KeyMetadata"]["KeyId"]
    sweep = Sweep(server)
    operations = sorted(MODEL["operations"])
    assert len(operations) == 54
    for operation in operations:
        sweep_operation(sweep, operation, key_id)
    for target in (None, "", "TrentService.", "TrentService.NoSuchOperation", "DynamoDB_20120810.ListTables", "TrentService.ListKeys.x",
                   "SwiftKMS.NoSuchOperation", "T" * 10_000):
        sweep.send(target, b"{}", label=f"target {str(target)[:40]!r}")
    with urllib.request.urlopen(server.url + "/health", timeout=10) as health:
        assert health.status == 200
    assert kms.list_keys()["Keys"], "signed requests still served"
    assert server.proc.poll() is None, "the server is still running"
    print(f"\nsweep: {sweep.count} requests over {len(operations)} operations, {len(sweep.failures)} failures")
    assert sweep.count >= 5000
    assert not sweep.failures, "\n".join(map(str, sweep.failures[:40]))
