"""The README's session, with the AWS CLI as a user runs it."""
import base64
import json
import os
import subprocess

from conftest import BINARY, aws_cli


def aws(server, *args, check=True):
    return aws_cli(server, *args, check=check)


def test_readme_session(server, tmp_path):
    key_id = json.loads(aws(server, "create-key", "--description", "demo").stdout)["KeyMetadata"]["KeyId"]
    aws(server, "create-alias", "--alias-name", "alias/demo", "--target-key-id", key_id)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"the launch codes\n")
    blob_b64 = aws(server, "encrypt", "--key-id", "alias/demo", "--plaintext", f"fileb://{secret}",
                   "--encryption-context", "app=demo", "--query", "CiphertextBlob", "--output", "text").stdout.strip()
    enc = tmp_path / "secret.enc"
    enc.write_bytes(base64.b64decode(blob_b64))
    out = json.loads(aws(server, "decrypt", "--ciphertext-blob", f"fileb://{enc}", "--encryption-context", "app=demo").stdout)
    assert base64.b64decode(out["Plaintext"]) == b"the launch codes\n"
    assert out["KeyId"].endswith(key_id)
    wrong = aws(server, "decrypt", "--ciphertext-blob", f"fileb://{enc}", "--encryption-context", "app=other", check=False)
    assert wrong.returncode != 0 and "InvalidCiphertextException" in wrong.stderr
    described = json.loads(aws(server, "describe-key", "--key-id", "alias/demo").stdout)["KeyMetadata"]
    assert described["KeyId"] == key_id and described["Description"] == "demo"
    aliases = json.loads(aws(server, "list-aliases", "--key-id", key_id).stdout)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/demo"]
    disabled = aws(server, "disable-key", "--key-id", key_id)
    failed = aws(server, "encrypt", "--key-id", "alias/demo", "--plaintext", f"fileb://{secret}", check=False)
    assert disabled.returncode == 0 and "DisabledException" in failed.stderr


def test_bad_settings_stop_the_start_and_name_the_setting(tmp_path):
    """An environment value that is not a whole number in range is refused, naming the
    variable, rather than silently becoming the default (or 0, which made a job spin)."""
    for variable, value in (("SWIFTKMS_DELETION_INTERVAL", "0"), ("SWIFTKMS_PORT", "http"), ("SWIFTKMS_GRANTS_PER_KEY", "-5"),
                            ("SWIFTKMS_AUDIT_RETENTION_DAYS", "1e3"), ("SWIFTKMS_IDLE_TIMEOUT", "0")):
        out = subprocess.run([BINARY, "serve", "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, **{variable: value}))
        assert out.returncode != 0 and variable in out.stderr, (variable, out.stderr)
    for flag in (["--deletion-interval", "0"], ["--port", "70000"]):
        out = subprocess.run([BINARY, "serve", "--data-dir", str(tmp_path / "data"), *flag], capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and flag[0] in out.stderr, (flag, out.stderr)
