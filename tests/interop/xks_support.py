"""What the XKS tests share: a SoftHSM2 token, TLS files, and `swiftkms xks-proxy` processes;
and an independent XKS client (Python's http.client and ssl, signed by botocore's SigV4Auth)."""

import atexit
import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import BINARY, free_port

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "xks-token"
PIN = "xks-user-pin-1"


def softhsm(root):
    """A SoftHSM2 configuration with one initialised token; returns the environment that uses it."""
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf), SWIFTKMS_XKS_PKCS11_PIN=PIN)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", "87654321", "--pin", PIN],
                   check=True, capture_output=True, env=env)
    return env


def tls_files(folder, *more_hostnames):
    """A CA and a certificate for localhost and `more_hostnames` (swiftkms admin create-tls-certificate)."""
    names = [arg for name in ("localhost", *more_hostnames) for arg in ("--hostname", name)]
    subprocess.run([BINARY, "admin", "create-tls-certificate", *names, "--out-dir", str(folder)], check=True, capture_output=True)
    return folder / "tls-certificate.pem", folder / "tls-key.pem", folder / "tls-ca.pem"


def credential():
    out = subprocess.run([BINARY, "xks-proxy", "new-credential"], check=True, capture_output=True, text=True)
    c = json.loads(out.stdout)["XksProxyAuthenticationCredential"]
    return c["AccessKeyId"], c["RawSecretAccessKey"]


# Every proxy process started, killed at exit whatever happened to the test that started it.
STARTED = []


@atexit.register
def _kill_started():
    for process in STARTED:
        if process.poll() is None:
            process.kill()


class Proxy:
    """One `swiftkms xks-proxy` process with a configuration file of its own."""

    def __init__(self, folder, env, tls, uri_paths, keys=None, client_ca=None, client_subject=None):
        self.folder, self.env, self.tls = folder, env, tls
        self.port = free_port()
        self.config_path = folder / "xks-proxy.json"
        self.audit_log = folder / "xks-audit.log"
        self.config = {
            "listen": f"127.0.0.1:{self.port}",
            "tls": {"certificate": str(tls[0]), "key": str(tls[1])},
            "hsm": {"module": MODULE, "tokenLabel": TOKEN},
            "uriPaths": uri_paths,
            "keys": keys or {},
            "auditLog": "xks-audit.log",
        }
        if client_ca:
            self.config["tls"]["clientCertificateAuthority"] = str(client_ca)
            self.config["tls"]["clientCertificateSubject"] = client_subject
        self.write_config()
        self.process = None

    def write_config(self):
        self.config_path.write_text(json.dumps(self.config))
        os.chmod(self.config_path, 0o600)

    def command(self, *args, check=True):
        out = subprocess.run([BINARY, "xks-proxy", *args], capture_output=True, text=True, env=self.env, timeout=60)
        if check:
            assert out.returncode == 0, out.stdout + out.stderr
        return out

    def create_key(self, key_id, usage="ENCRYPT,DECRYPT"):
        return json.loads(self.command("create-key", "--config", str(self.config_path), "--key-id", key_id, "--usage", usage).stdout)

    def start(self):
        self.log = open(self.folder / "proxy.log", "ab")
        self.process = subprocess.Popen([BINARY, "xks-proxy", "run", "--config", str(self.config_path)], env=self.env,
                                        stdout=self.log, stderr=self.log)
        STARTED.append(self.process)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.process.poll() is None, (self.folder / "proxy.log").read_text()
            try:
                status, _ = self.get("/ping")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("the XKS proxy did not start")

    def reload(self, config):
        self.config = config
        self.write_config()
        self.process.send_signal(signal.SIGHUP)
        time.sleep(1)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def context(self, client_cert=None):
        ctx = ssl.create_default_context(cafile=str(self.tls[2]))
        if client_cert:
            ctx.load_cert_chain(*client_cert)
        return ctx

    def get(self, path):
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.context(), timeout=10)
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()

    def call(self, path, body, access_key=None, secret=None, method="POST", region="us-east-1", service="kms-xks-proxy",
             date=None, client_cert=None, raw=None):
        """Sends `body` (a dict, or `raw` bytes) signed with SigV4 unless access_key is None;
        returns (status, parsed JSON or None, headers)."""
        data = raw if raw is not None else json.dumps(body).encode()
        url = f"https://localhost:{self.port}{path}"
        request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"})
        if access_key:
            signer = SigV4Auth(Credentials(access_key, secret), service, region)
            if date is not None:
                with _frozen_time(date):
                    signer.add_auth(request)
            else:
                signer.add_auth(request)
        conn = http.client.HTTPSConnection("localhost", self.port, context=self.context(client_cert), timeout=10)
        headers = {k: v for k, v in request.headers.items()}
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return r.status, parsed, dict(r.getheaders())


def _frozen_time(date):
    """Signs as if the clock said `date`."""
    from unittest import mock
    return mock.patch("botocore.auth.get_current_datetime", return_value=date.replace(tzinfo=None))


def b64(data):
    return base64.b64encode(data).decode()


def unb64(text):
    return base64.b64decode(text)
