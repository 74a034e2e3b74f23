"""SM2 keys (China Regions only) through a real server, checked by gmssl, a pure-Python SM2/SM3
implementation that shares no code with the server's OpenSSL."""
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from gmssl import sm2

from blobformat import unwrap_material
from conftest import error_code

REGION = "cn-north-1"
# SubjectPublicKeyInfo up to the point: id-ecPublicKey with the sm2p256v1 curve, then 04 || x || y.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")


@pytest.fixture(scope="module")
def kms_cn(server):
    return server.client(region=REGION)


def gm(public_key_der, private_key_hex=""):
    """A gmssl SM2 object for a DER SPKI (its public key set directly: the constructor's
    prefix stripping mangles keys whose x starts with 0 or 4)."""
    assert public_key_der.startswith(SPKI_PREFIX) and len(public_key_der) == len(SPKI_PREFIX) + 64
    crypt = sm2.CryptSM2(private_key=private_key_hex, public_key="00" * 64, mode=1)
    crypt.public_key = public_key_der[len(SPKI_PREFIX):].hex()
    return crypt


def der_to_raw(signature):
    r, s = decode_dss_signature(signature)
    return f"{r:064x}{s:064x}"


def raw_to_der(signature_hex):
    return encode_dss_signature(int(signature_hex[:64], 16), int(signature_hex[64:], 16))


def create(kms, usage):
    return kms.create_key(KeySpec="SM2", KeyUsage=usage)["KeyMetadata"]


def test_sm2_only_in_china_regions(kms, kms_cn):
    for usage in ("SIGN_VERIFY", "ENCRYPT_DECRYPT", "KEY_AGREEMENT"):
        assert error_code(kms.create_key, KeySpec="SM2", KeyUsage=usage) == "UnsupportedOperationException"
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_code(kms.generate_data_key_pair, KeyId=symmetric, KeyPairSpec="SM2") == "UnsupportedOperationException"
    meta = create(kms_cn, "SIGN_VERIFY")
    assert meta["Arn"].startswith(f"arn:aws-cn:kms:{REGION}:")
    assert meta["KeySpec"] == "SM2" and meta["SigningAlgorithms"] == ["SM2DSA"]
    # A China Region key is not visible from another region.
    assert error_code(kms.describe_key, KeyId=meta["KeyId"]) == "NotFoundException"


def test_sm2dsa_signatures_both_ways(kms_cn):
    meta = create(kms_cn, "SIGN_VERIFY")
    published = kms_cn.get_public_key(KeyId=meta["KeyId"])
    assert published["SigningAlgorithms"] == ["SM2DSA"] and published["KeySpec"] == "SM2"
    theirs = gm(published["PublicKey"])
    for message in (b"m", b"\x00" * 4096):
        signature = kms_cn.sign(KeyId=meta["KeyId"], Message=message, SigningAlgorithm="SM2DSA")["Signature"]
        # RAW: SM3(Z || message), Z with the default distinguishing ID 1234567812345678.
        assert theirs.verify_with_sm3(der_to_raw(signature), message)
        assert kms_cn.verify(KeyId=meta["KeyId"], Message=message, Signature=signature, SigningAlgorithm="SM2DSA")["SignatureValid"]
    # DIGEST: the caller's SM3(Z || message), signed as it is.
    digest = bytes.fromhex(theirs._sm3_z(b"digested elsewhere"))
    signature = kms_cn.sign(KeyId=meta["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm="SM2DSA")["Signature"]
    assert theirs.verify_with_sm3(der_to_raw(signature), b"digested elsewhere")
    assert kms_cn.verify(KeyId=meta["KeyId"], Message=b"digested elsewhere", Signature=signature, SigningAlgorithm="SM2DSA")["SignatureValid"]
    assert error_code(kms_cn.verify, KeyId=meta["KeyId"], Message=b"digested elsewhere!", Signature=signature,
                      SigningAlgorithm="SM2DSA") == "KMSInvalidSignatureException"
    assert error_code(kms_cn.sign, KeyId=meta["KeyId"], Message=b"x" * 31, MessageType="DIGEST", SigningAlgorithm="SM2DSA") == "ValidationException"
    assert error_code(kms_cn.sign, KeyId=meta["KeyId"], Message=b"m", SigningAlgorithm="ECDSA_SHA_256") == "InvalidKeyUsageException"
    assert error_code(kms_cn.encrypt, KeyId=meta["KeyId"], Plaintext=b"m", EncryptionAlgorithm="SM2PKE") == "InvalidKeyUsageException"


def test_sm2_private_key_used_elsewhere(server, kms_cn):
    """The stored private key, unwrapped independently, signs and decrypts in gmssl."""
    for usage in ("SIGN_VERIFY", "ENCRYPT_DECRYPT"):
        meta = create(kms_cn, usage)
        public_key = kms_cn.get_public_key(KeyId=meta["KeyId"])["PublicKey"]
        d = private_scalar(unwrap_material(server.data_dir, meta["Arn"]))
        theirs = gm(public_key, d)
        assert theirs._kg(int(d, 16), theirs.ecc_table["g"]) == theirs.public_key
        if usage == "SIGN_VERIFY":
            signature = raw_to_der(theirs.sign_with_sm3(b"signed by gmssl"))
            assert kms_cn.verify(KeyId=meta["KeyId"], Message=b"signed by gmssl", Signature=signature, SigningAlgorithm="SM2DSA")["SignatureValid"]
        else:
            blob = kms_cn.encrypt(KeyId=meta["KeyId"], Plaintext=b"opened by gmssl", EncryptionAlgorithm="SM2PKE")["CiphertextBlob"]
            x, y, c3, c2 = parse_asn1_sm2_ciphertext(blob)
            assert theirs.decrypt(x + y + c3 + c2) == b"opened by gmssl"


def test_sm2_shared_secret_and_data_key_pairs(server, kms_cn):
    meta = create(kms_cn, "KEY_AGREEMENT")
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"]
    kms_public = kms_cn.get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    symmetric = kms_cn.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(3):
        # The peer is an SM2 data key pair; gmssl multiplies its scalar with the KMS key's point.
        pair = kms_cn.generate_data_key_pair(KeyId=symmetric, KeyPairSpec="SM2", EncryptionContext={"p": "q"})
        assert pair["KeyPairSpec"] == "SM2"
        d = private_scalar(pair["PrivateKeyPlaintext"])
        peer = gm(pair["PublicKey"], d)
        assert peer._kg(int(d, 16), peer.ecc_table["g"]) == peer.public_key  # the pair's halves match
        assert kms_cn.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"p": "q"})["Plaintext"] == pair["PrivateKeyPlaintext"]
        secret = kms_cn.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=pair["PublicKey"])["SharedSecret"]
        assert secret.hex() == peer._kg(int(d, 16), gm(kms_public).public_key)[:64]
    p256 = kms_cn.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
    p256_public = kms_cn.get_public_key(KeyId=p256)["PublicKey"]
    assert error_code(kms_cn.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=p256_public) == "ValidationException"
    assert error_code(kms_cn.derive_shared_secret, KeyId=p256, KeyAgreementAlgorithm="ECDH", PublicKey=kms_public) == "ValidationException"
    # A point off the curve, in an SM2 SubjectPublicKeyInfo.
    off_curve = SPKI_PREFIX + (1).to_bytes(32, "big") + (1).to_bytes(32, "big")
    assert error_code(kms_cn.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=off_curve) == "ValidationException"


def private_scalar(pkcs8):
    """d from a PKCS#8 EC private key (ECPrivateKey: INTEGER 1, OCTET STRING d)."""
    at = pkcs8.index(bytes.fromhex("020101" "0420"))
    return pkcs8[at + 5:at + 37].hex()


def parse_asn1_sm2_ciphertext(blob):
    """(x, y, C3, C2) from GM/T 0009's SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3, OCTET STRING C2 }."""
    def tlv(data, at):
        tag, n, at = data[at], data[at + 1], at + 2
        if n & 0x80:
            size = n & 0x7F
            n, at = int.from_bytes(data[at:at + size], "big"), at + size
        return tag, data[at:at + n], at + n

    tag, body, end = tlv(blob, 0)
    assert tag == 0x30 and end == len(blob)
    parts, at = [], 0
    while at < len(body):
        tag, value, at = tlv(body, at)
        parts.append(value)
    x, y, c3, c2 = parts
    return int.from_bytes(x, "big").to_bytes(32, "big"), int.from_bytes(y, "big").to_bytes(32, "big"), c3, c2


def test_sm2pke_both_ways(kms_cn):
    meta = create(kms_cn, "ENCRYPT_DECRYPT")
    assert meta["EncryptionAlgorithms"] == ["SM2PKE"]
    public_key = kms_cn.get_public_key(KeyId=meta["KeyId"])["PublicKey"]
    theirs = gm(public_key)
    # gmssl's C1 || C3 || C2, in GM/T 0009's ASN.1 form as AWS KMS takes it.
    for plaintext in (b"x", b"sealed by gmssl" * 60):
        raw = theirs.encrypt(plaintext)
        while raw is None:  # gmssl's KDF output was all zero (1 in 256 for one byte): GM/T 0003 takes another k
            raw = theirs.encrypt(plaintext)
        x, y, c3, c2 = raw[:32], raw[32:64], raw[64:96], raw[96:]
        assert kms_cn.decrypt(KeyId=meta["KeyId"], CiphertextBlob=asn1_sm2_ciphertext(x, y, c3, c2),
                              EncryptionAlgorithm="SM2PKE")["Plaintext"] == plaintext
    out = kms_cn.encrypt(KeyId=meta["KeyId"], Plaintext=b"p" * 1024, EncryptionAlgorithm="SM2PKE")
    assert out["EncryptionAlgorithm"] == "SM2PKE"
    assert kms_cn.decrypt(KeyId=meta["KeyId"], CiphertextBlob=out["CiphertextBlob"], EncryptionAlgorithm="SM2PKE")["Plaintext"] == b"p" * 1024
    assert error_code(kms_cn.encrypt, KeyId=meta["KeyId"], Plaintext=b"p" * 1025, EncryptionAlgorithm="SM2PKE") == "ValidationException"
    assert error_code(kms_cn.encrypt, KeyId=meta["KeyId"], Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256") == "InvalidKeyUsageException"
    tampered = bytearray(out["CiphertextBlob"])
    tampered[-1] ^= 1
    assert error_code(kms_cn.decrypt, KeyId=meta["KeyId"], CiphertextBlob=bytes(tampered), EncryptionAlgorithm="SM2PKE") == "InvalidCiphertextException"


def asn1_sm2_ciphertext(x, y, c3, c2):
    def tlv(tag, body):
        n = len(body)
        length = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF]))
        return bytes([tag]) + length + body

    def integer(b):
        b = b.lstrip(b"\x00") or b"\x00"
        return tlv(0x02, (b"\x00" + b) if b[0] & 0x80 else b)

    return tlv(0x30, integer(x) + integer(y) + tlv(0x04, c3) + tlv(0x04, c2))


def test_reencrypt_between_symmetric_rsa_and_sm2(kms_cn):
    symmetric = kms_cn.create_key()["KeyMetadata"]["KeyId"]
    sm2_key = create(kms_cn, "ENCRYPT_DECRYPT")
    rsa_key = kms_cn.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    blob = kms_cn.encrypt(KeyId=symmetric, Plaintext=b"journey", EncryptionContext={"c": "1"})["CiphertextBlob"]
    to_sm2 = kms_cn.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"c": "1"}, DestinationKeyId=sm2_key["KeyId"],
                               DestinationEncryptionAlgorithm="SM2PKE")
    assert to_sm2["DestinationEncryptionAlgorithm"] == "SM2PKE"
    parse_asn1_sm2_ciphertext(to_sm2["CiphertextBlob"])  # GM/T 0009 form
    to_rsa = kms_cn.re_encrypt(CiphertextBlob=to_sm2["CiphertextBlob"], SourceKeyId=sm2_key["Arn"], SourceEncryptionAlgorithm="SM2PKE",
                               DestinationKeyId=rsa_key, DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_1")
    back = kms_cn.re_encrypt(CiphertextBlob=to_rsa["CiphertextBlob"], SourceKeyId=rsa_key, SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1",
                             DestinationKeyId=sm2_key["KeyId"], DestinationEncryptionAlgorithm="SM2PKE")
    last = kms_cn.re_encrypt(CiphertextBlob=back["CiphertextBlob"], SourceKeyId=sm2_key["KeyId"], SourceEncryptionAlgorithm="SM2PKE",
                             DestinationKeyId=symmetric, DestinationEncryptionContext={"c": "2"})
    assert kms_cn.decrypt(CiphertextBlob=last["CiphertextBlob"], EncryptionContext={"c": "2"})["Plaintext"] == b"journey"
    assert error_code(kms_cn.re_encrypt, CiphertextBlob=to_sm2["CiphertextBlob"], SourceKeyId=sm2_key["KeyId"],
                      SourceEncryptionAlgorithm="RSAES_OAEP_SHA_256", DestinationKeyId=symmetric) == "InvalidKeyUsageException"
