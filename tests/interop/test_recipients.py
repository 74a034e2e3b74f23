"""Nitro Enclaves recipients: Decrypt, GenerateDataKey, GenerateDataKeyPair, GenerateRandom and
DeriveSharedSecret with a `Recipient` answer only CiphertextForRecipient, CMS EnvelopedData for
the enclave's public key. The tests play the Nitro hypervisor with a root of their own (the
server trusts it with --attestation-root-certificate), build attestation documents (COSE_Sign1
over CBOR, ES384) with cbor2 and `cryptography`, and open what the server sends with OpenSSL's
`cms` command, as an enclave would with its private key."""
import datetime
import json
import os
import subprocess

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from conftest import Server, error_code, swiftkms

from test_access_control import ADMIN, doc, principal

NOW = datetime.datetime.now(datetime.timezone.utc)


def certificate(name, key, issuer_name, issuer_key, ca, not_before=NOW - datetime.timedelta(hours=1),
                not_after=NOW + datetime.timedelta(hours=3)):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    return builder.sign(issuer_key, hashes.SHA384())


class Hypervisor:
    """A stand-in for the Nitro hypervisor: a root, an intermediate and a signing certificate."""

    def __init__(self, not_after=NOW + datetime.timedelta(hours=3)):
        self.root_key, self.intermediate_key, self.leaf_key = (ec.generate_private_key(ec.SECP384R1()) for _ in range(3))
        self.root = certificate("test nitro root", self.root_key, "test nitro root", self.root_key, True,
                                not_after=NOW + datetime.timedelta(days=30))
        self.intermediate = certificate("test zonal", self.intermediate_key, "test nitro root", self.root_key, True,
                                        not_after=NOW + datetime.timedelta(days=3))
        self.leaf = certificate("i-0123456789abcdef0-enc0123456789abcd", self.leaf_key, "test zonal", self.intermediate_key,
                                False, not_after=not_after)

    def attest(self, public_key, pcrs=None, omit=(), tamper=False):
        """An attestation document for an enclave with `public_key` (DER) and `pcrs`."""
        der = lambda c: c.public_bytes(serialization.Encoding.DER)
        fields = {"module_id": "i-0123456789abcdef0-enc0123456789abcd", "digest": "SHA384",
                  "timestamp": int(NOW.timestamp() * 1000), "pcrs": pcrs or PCRS, "certificate": der(self.leaf),
                  "cabundle": [der(self.root), der(self.intermediate)], "public_key": public_key,
                  "user_data": None, "nonce": None}
        payload = cbor2.dumps({k: v for k, v in fields.items() if k not in omit})
        protected = cbor2.dumps({1: -35})
        r, s = decode_dss_signature(self.leaf_key.sign(cbor2.dumps(["Signature1", protected, b"", payload]), ec.ECDSA(hashes.SHA384())))
        if tamper:
            payload = payload.replace(PCRS[0], bytes(48))
        return cbor2.dumps([protected, {}, payload, r.to_bytes(48, "big") + s.to_bytes(48, "big")])


PCRS = {0: bytes.fromhex("a1" * 48), 1: bytes.fromhex("b2" * 48), 2: bytes.fromhex("c3" * 48), 3: bytes(48), 4: bytes(48), 8: bytes(48)}
HYPERVISOR = Hypervisor()
ENCLAVE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ENCLAVE_PUBLIC = ENCLAVE_KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("recipients")
    root = directory / "nitro-root.pem"
    root.write_bytes(HYPERVISOR.root.public_bytes(serialization.Encoding.PEM))
    s = Server(directory / "data", args=["--attestation-root-certificate", str(root)]).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def enclave_key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("enclave") / "enclave-key.pem"
    path.write_bytes(ENCLAVE_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(path)


def recipient(document=None):
    return {"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": document or HYPERVISOR.attest(ENCLAVE_PUBLIC)}


def open_in_enclave(key_file, envelope):
    """What the enclave does with CiphertextForRecipient: OpenSSL's CMS decryption."""
    out = subprocess.run(["openssl", "cms", "-decrypt", "-inform", "DER", "-inkey", key_file, "-binary"],
                         input=envelope, capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_every_operation_answers_only_the_enclave(server, kms, enclave_key_file):
    key = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"the launch codes", EncryptionContext={"app": "vault"})["CiphertextBlob"]
    out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "vault"}, Recipient=recipient())
    assert "Plaintext" not in out and out["KeyId"] == key
    assert open_in_enclave(enclave_key_file, out["CiphertextForRecipient"]) == b"the launch codes"
    # The envelope is what AWS sends: CMS EnvelopedData, RSAES-OAEP key transport, AES-256-CBC.
    printed = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-inform", "DER"], input=out["CiphertextForRecipient"],
                             capture_output=True, timeout=30).stdout.decode()
    assert "pkcs7-envelopedData" in printed and "rsaesOaep" in printed and "aes-256-cbc" in printed and "sha256" in printed

    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256", Recipient=recipient())
    assert "Plaintext" not in data_key
    opened = open_in_enclave(enclave_key_file, data_key["CiphertextForRecipient"])
    assert len(opened) == 32 and kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == opened

    random = kms.generate_random(NumberOfBytes=48, Recipient=recipient())
    assert "Plaintext" not in random and len(open_in_enclave(enclave_key_file, random["CiphertextForRecipient"])) == 48

    pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec="ECC_NIST_P256", Recipient=recipient())
    assert "PrivateKeyPlaintext" not in pair
    private = serialization.load_der_private_key(open_in_enclave(enclave_key_file, pair["CiphertextForRecipient"]), None)
    assert private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair["PublicKey"]

    agreement = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
    peer = ec.generate_private_key(ec.SECP256R1())
    shared = kms.derive_shared_secret(
        KeyId=agreement, KeyAgreementAlgorithm="ECDH", Recipient=recipient(),
        PublicKey=peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert "SharedSecret" not in shared
    theirs = serialization.load_der_public_key(kms.get_public_key(KeyId=agreement)["PublicKey"])
    assert open_in_enclave(enclave_key_file, shared["CiphertextForRecipient"]) == peer.exchange(ec.ECDH(), theirs)

    # CloudTrail names the enclave, as AWS does; the document itself is not in the event.
    events = json.loads(swiftkms("audit", "lookup", "--data-dir", server.data_dir, "--event-name", "GenerateRandom",
                                 "--output", "json").stdout)
    assert events[0]["additionalEventData"]["recipient"] == {
        "attestationDocumentModuleId": "i-0123456789abcdef0-enc0123456789abcd", "attestationDocumentEnclaveImageDigest": PCRS[0].hex()}
    assert events[0]["requestParameters"] == {"numberOfBytes": 48, "recipient": {"keyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}


def test_key_policies_test_the_enclave_measurements(server, kms, enclave_key_file):
    erin, as_erin = principal(server, "user", "erin-enclave")
    key = kms.create_key(Policy=doc(ADMIN, {
        "Effect": "Allow", "Principal": {"AWS": erin["Arn"]}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
        "Condition": {"StringEqualsIgnoreCase": {"kms:RecipientAttestation:ImageSha384": PCRS[0].hex().upper(),
                                                 "kms:RecipientAttestation:PCR1": PCRS[1].hex()}}}))["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"for the enclave only")["CiphertextBlob"]
    out = as_erin.decrypt(CiphertextBlob=blob, Recipient=recipient())
    assert open_in_enclave(enclave_key_file, out["CiphertextForRecipient"]) == b"for the enclave only"
    other_image = HYPERVISOR.attest(ENCLAVE_PUBLIC, pcrs={**PCRS, 0: bytes(48)})
    assert error_code(as_erin.decrypt, CiphertextBlob=blob, Recipient=recipient(other_image)) == "AccessDeniedException"
    other_kernel = HYPERVISOR.attest(ENCLAVE_PUBLIC, pcrs={**PCRS, 1: bytes(48)})
    assert error_code(as_erin.generate_data_key, KeyId=key, KeySpec="AES_256", Recipient=recipient(other_kernel)) == "AccessDeniedException"
    # Without an enclave, no plaintext either: the conditions need the document.
    assert error_code(as_erin.decrypt, CiphertextBlob=blob) == "AccessDeniedException"


def test_documents_that_are_not_valid(server, kms, tmp_path):
    key = kms.create_key()["KeyMetadata"]["Arn"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    expired = Hypervisor(not_after=NOW - datetime.timedelta(minutes=1))
    stranger = Hypervisor()
    small_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    nested = b"\x81" * 3000 + b"\x00"
    documents = [
        stranger.attest(ENCLAVE_PUBLIC),                       # signed under another root
        HYPERVISOR.attest(ENCLAVE_PUBLIC, tamper=True),        # measurements changed after signing
        HYPERVISOR.attest(ENCLAVE_PUBLIC, omit=("public_key",)),
        HYPERVISOR.attest(small_key),                          # RSA under 2048 bits
        HYPERVISOR.attest(b"not a key"),
        b"\xa0", os.urandom(200), nested, HYPERVISOR.attest(ENCLAVE_PUBLIC)[:-1],
        b"\x9b\x00\x00\x00\x10\x00\x00\x00\x00\x00",                    # an array declaring 2^36 items (libcbor would allocate them)
    ]
    # An expired signing certificate: its document is refused even though it was once good.
    documents.append(expired.attest(ENCLAVE_PUBLIC))
    messages = set()
    for document in documents:
        with pytest.raises(Exception) as info:
            kms.decrypt(CiphertextBlob=blob, Recipient=recipient(document))
        assert info.value.response["Error"]["Code"] == "ValidationException", document[:16]
        messages.add(info.value.response["Error"]["Message"])
    assert len(messages) == 1, messages
    assert error_code(kms.generate_random, NumberOfBytes=8, Recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256"}) == "ValidationException"

    # A server that trusts no attestation root refuses Recipient rather than answer in the clear.
    plain = Server(tmp_path / "data").start()
    try:
        assert error_code(plain.client().generate_random, NumberOfBytes=8, Recipient=recipient()) == "UnsupportedOperationException"
    finally:
        plain.stop()
