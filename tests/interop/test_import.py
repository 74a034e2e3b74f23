"""Imported key material, wrapped by Python's `cryptography` as a user would wrap it with
OpenSSL (RSA-OAEP, or RSA-OAEP of an AES key plus AES key wrap with padding), then proven to
be the material imported: a blob sealed locally decrypts, a locally made signature verifies,
a locally computed HMAC matches."""
import datetime
import hashlib
import hmac
import os

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from blobformat import seal
from conftest import ACCOUNT, db_execute, error_code


def wrap(material, params, algorithm):
    public = serialization.load_der_public_key(params["PublicKey"])
    digest = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)
    if algorithm.startswith("RSA_AES"):
        aes_key = os.urandom(32)
        return public.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    return public.encrypt(material, oaep)


def import_material(kms, key_id, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048", **extra):
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    assert params["ParametersValidTo"] > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=23)
    extra.setdefault("ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    return kms.import_key_material(KeyId=key_id, ImportToken=params["ImportToken"],
                                   EncryptedKeyMaterial=wrap(material, params, algorithm), **extra)


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_symmetric_material_decrypts_what_was_sealed_locally(kms, algorithm):
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and meta["Origin"] == "EXTERNAL"
    assert error_code(kms.encrypt, KeyId=meta["KeyId"], Plaintext=b"x") == "KMSInvalidStateException"
    material = os.urandom(32)
    out = import_material(kms, meta["KeyId"], material, algorithm)
    assert out["KeyId"] == meta["Arn"] and len(out["KeyMaterialId"]) == 64
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Enabled" and described["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    mine = seal(material, ACCOUNT, meta["KeyId"], 1, os.urandom(16), os.urandom(12), b"sealed in python", {"k": "v"})
    assert kms.decrypt(CiphertextBlob=mine, EncryptionContext={"k": "v"})["Plaintext"] == b"sealed in python"


def test_rsa_material_verifies_a_signature_made_locally(kms):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key = kms.create_key(Origin="EXTERNAL", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    # A private key is too long for RSA-OAEP: AWS requires RSA_AES wrapping, and so does the math.
    params = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_4096")
    with pytest.raises(ValueError):
        wrap(pkcs8, params, "RSAES_OAEP_SHA_256")
    import_material(kms, key, pkcs8, "RSA_AES_KEY_WRAP_SHA_256", spec="RSA_3072")
    message = b"signed by the key's owner, before import"
    signature = private.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert kms.verify(KeyId=key, Message=message, Signature=signature, SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256")["SignatureValid"]
    public = kms.get_public_key(KeyId=key)["PublicKey"]
    assert public == private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_ecc_material_and_a_wrong_curve(kms):
    private = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    key = kms.create_key(Origin="EXTERNAL", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    wrong = ec.generate_private_key(ec.SECP384R1()).private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                                   serialization.NoEncryption())
    assert error_code(import_material, kms, key, wrong, "RSA_AES_KEY_WRAP_SHA_1") == "IncorrectKeyMaterialException"
    import_material(kms, key, pkcs8, "RSA_AES_KEY_WRAP_SHA_1")
    signature = kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    private.public_key().verify(signature, b"m", ec.ECDSA(hashes.SHA256()))


def test_hmac_material_computes_the_local_hmac(kms):
    secret = os.urandom(48)
    key = kms.create_key(Origin="EXTERNAL", KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    import_material(kms, key, secret, "RSAES_OAEP_SHA_1")
    mac = kms.generate_mac(KeyId=key, Message=b"payload", MacAlgorithm="HMAC_SHA_384")["Mac"]
    assert mac == hmac.new(secret, b"payload", hashlib.sha384).digest()


def test_expiry_deletion_and_reimport(kms):
    meta = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    material = os.urandom(32)
    valid_to = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    first = import_material(kms, meta["KeyId"], material, ValidTo=valid_to, ExpirationModel="KEY_MATERIAL_EXPIRES")
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and abs((described["ValidTo"] - valid_to).total_seconds()) < 1
    blob = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"before deletion")["CiphertextBlob"]
    deleted = kms.delete_imported_key_material(KeyId=meta["KeyId"])
    assert deleted["KeyMaterialId"] == first["KeyMaterialId"]
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"
    assert error_code(kms.decrypt, CiphertextBlob=blob) == "KMSInvalidStateException"
    assert error_code(import_material, kms, meta["KeyId"], os.urandom(32)) == "IncorrectKeyMaterialException"
    again = import_material(kms, meta["KeyId"], material)
    assert again["KeyMaterialId"] == first["KeyMaterialId"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"before deletion"
    rotations = kms.list_key_rotations(KeyId=meta["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert [(r["KeyMaterialId"], r["ImportState"], r["KeyMaterialState"]) for r in rotations] == [(first["KeyMaterialId"], "IMPORTED", "CURRENT")]


def test_import_errors(server, kms):
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    other = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = wrap(os.urandom(32), params, "RSAES_OAEP_SHA_256")
    common = dict(ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert error_code(kms.import_key_material, KeyId=other, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, **common) == "InvalidImportTokenException"
    assert error_code(kms.import_key_material, KeyId=key, ImportToken=b"not a token", EncryptedKeyMaterial=wrapped, **common) == "InvalidImportTokenException"
    assert error_code(kms.import_key_material, KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=os.urandom(256), **common) == "InvalidCiphertextException"
    assert error_code(kms.import_key_material, KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped) == "ValidationException"
    assert error_code(kms.get_parameters_for_import, KeyId=key, WrappingAlgorithm="RSAES_PKCS1_V1_5", WrappingKeySpec="RSA_2048") == "ValidationException"
    generated = kms.create_key()["KeyMetadata"]["KeyId"]
    assert error_code(kms.get_parameters_for_import, KeyId=generated, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048") == "UnsupportedOperationException"
    assert error_code(kms.delete_imported_key_material, KeyId=generated) == "UnsupportedOperationException"


def test_an_import_token_that_expired(server, kms):
    """An import token is good for 24 hours (ParametersValidTo); after, ImportKeyMaterial is
    ExpiredImportTokenException, not InvalidImportTokenException: the server remembers expired
    parameters for a week. The day passes in the store, with the server stopped."""
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    params = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapped = wrap(os.urandom(32), params, "RSAES_OAEP_SHA_256")
    server.stop()
    an_hour_ago = int((datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).timestamp() * 1000)
    assert db_execute(server.data_dir, "UPDATE import_parameters SET valid_to_ms = ? WHERE key_id = ?", (an_hour_ago, key)) == 1
    server.start()
    assert error_code(kms.import_key_material, KeyId=key, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped,
                      ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE") == "ExpiredImportTokenException"
    fresh = kms.get_parameters_for_import(KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    kms.import_key_material(KeyId=key, ImportToken=fresh["ImportToken"], EncryptedKeyMaterial=wrap(os.urandom(32), fresh, "RSAES_OAEP_SHA_256"),
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


def test_new_imported_material_becomes_current_with_an_on_demand_rotation(server, kms):
    from blobformat import open_blob
    key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    first, second = os.urandom(32), os.urandom(32)
    first_id = import_material(kms, key, first)["KeyMaterialId"]
    old = kms.encrypt(KeyId=key, Plaintext=b"under the first")["CiphertextBlob"]
    assert error_code(kms.rotate_key_on_demand, KeyId=key) == "KMSInvalidStateException"
    second_id = import_material(kms, key, second, ImportType="NEW_KEY_MATERIAL", KeyMaterialDescription="second import")["KeyMaterialId"]
    rotations = kms.list_key_rotations(KeyId=key, IncludeKeyMaterial="ALL_KEY_MATERIAL")["Rotations"]
    assert [(r["KeyMaterialId"], r["KeyMaterialState"]) for r in rotations] == [(first_id, "CURRENT"), (second_id, "PENDING_ROTATION")]
    kms.rotate_key_on_demand(KeyId=key)
    new = kms.encrypt(KeyId=key, Plaintext=b"under the second")
    assert new["KeyId"].endswith(key)
    # Independently: the second imported material opens the new blob, the first the old one.
    assert open_blob(second, new["CiphertextBlob"], {}) == b"under the second"
    assert open_blob(first, old, {}) == b"under the first"
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"under the first"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["CurrentKeyMaterialId"] == second_id
    rotation = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert [(r["KeyMaterialId"], r["RotationType"], r["KeyMaterialDescription"]) for r in rotation] == [(second_id, "ON_DEMAND", "second import")]
