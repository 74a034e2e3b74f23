"""Starts SwiftKMS for the session as the suite once started LocalStack: one development
server with the seeded keys, the credentials test/test, and AWS_ENDPOINT_URL pointing at it.
Nothing in the tests knows which local KMS it is."""
import os
import socket
import subprocess
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session", autouse=True)
def local_kms():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = os.environ.get("SWIFTKMS_BIN", "swiftkms")
    server = subprocess.Popen([binary, "serve", "--dev", "--port", str(port), "--seed", os.path.join(HERE, "keys.yaml")],
                              stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    os.environ.update(AWS_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    yield url
    server.terminate()
    server.wait(timeout=30)
