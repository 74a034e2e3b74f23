"""Independent implementation of SwiftKMS's symmetric ciphertext format 1
(docs/ciphertext-format.md), with Python's `cryptography`. Used to make the golden blob
committed in the Swift tests, and by the interop tests to open real server blobs when the
key material is known."""
import struct
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def canonical_context(context):
    pairs = sorted((k.encode(), v.encode()) for k, v in context.items())
    out = struct.pack(">I", len(pairs))
    for k, v in pairs:
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


def header(account, key_id, version, nonce, iv):
    if key_id.startswith("mrk-"):
        flags, kid = 1, bytes.fromhex(key_id[4:])
    else:
        flags, kid = 0, uuid.UUID(key_id).bytes
    return bytes([1, flags]) + account.encode() + kid + struct.pack(">I", version) + nonce + iv


def derived_key(material, hdr):
    nonce = hdr[34:50]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce,
                info=b"swiftkms/symmetric/v1" + hdr[:34]).derive(material)


def seal(material, account, key_id, version, nonce, iv, plaintext, context):
    hdr = header(account, key_id, version, nonce, iv)
    return hdr + AESGCM(derived_key(material, hdr)).encrypt(iv, plaintext, hdr + canonical_context(context))


def open_blob(material, blob, context):
    hdr = blob[:62]
    return AESGCM(derived_key(material, hdr)).decrypt(hdr[50:62], blob[62:], hdr + canonical_context(context))


if __name__ == "__main__":
    blob = seal(bytes(range(32)), "111122223333", "1234abcd-12ab-34cd-56ef-1234567890ab", 3,
                bytes(range(0xA0, 0xB0)), bytes(range(0xB0, 0xBC)), b"SwiftKMS golden blob v1",
                {"purpose": "test", "app": "golden"})
    print(blob.hex())


def unwrap_material(data_dir, key_arn, version=1):
    """A key's material, read from the store (SQLite or PostgreSQL) and unwrapped with the root
    key file, as docs/ciphertext-format.md ("Key material at rest") describes. For tests only."""
    import base64 as _b64
    import os as _os

    from conftest import db_rows
    root = _b64.b64decode(open(_os.path.join(data_dir, "root.key")).read().strip())
    wrapping_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                        info=b"swiftkms/root/key-material/v1").derive(root)
    key_id = key_arn.split("/", 1)[1]
    region = key_arn.split(":")[3]
    ((wrapped,),) = db_rows(data_dir, "SELECT wrapped FROM key_material WHERE key_id = ? AND region = ? AND version = ?",
                            (key_id, region, version))
    assert wrapped[0] == 1
    return AESGCM(wrapping_key).decrypt(wrapped[1:13], wrapped[13:], f"key-material:{key_arn}:{version}".encode())
