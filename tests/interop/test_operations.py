"""Every operation of the foundation issue, through boto3 against a real server."""
import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import ACCOUNT


def new_key(kms, **kwargs):
    return kms.create_key(**kwargs)["KeyMetadata"]


def test_create_and_describe_key(kms):
    meta = new_key(kms, Description="interop", Tags=[{"TagKey": "team", "TagValue": "a"}])
    assert meta["AWSAccountId"] == ACCOUNT
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{meta['KeyId']}"
    assert meta["Enabled"] is True and meta["KeyState"] == "Enabled"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT" and meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Origin"] == "AWS_KMS" and meta["KeyManager"] == "CUSTOMER" and meta["MultiRegion"] is False
    assert meta["Description"] == "interop"
    assert isinstance(meta["CreationDate"], datetime.datetime)
    assert abs((meta["CreationDate"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 120
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"] == meta
    assert kms.list_resource_tags(KeyId=meta["Arn"])["Tags"] == [{"TagKey": "team", "TagValue": "a"}]


def test_every_form_of_key_id(kms):
    meta = new_key(kms)
    kms.create_alias(AliasName="alias/forms", TargetKeyId=meta["KeyId"])
    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/forms"
    for key_id in (meta["KeyId"], meta["Arn"], "alias/forms", alias_arn):
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == meta["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] == b"x"


def test_encrypt_decrypt_with_context(kms):
    meta = new_key(kms)
    out = kms.encrypt(KeyId=meta["KeyId"], Plaintext=b"p" * 4096, EncryptionContext={"b": "2", "a": "1"})
    assert out["KeyId"] == meta["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"a": "1", "b": "2"},
                       EncryptionAlgorithm="SYMMETRIC_DEFAULT")
    assert back["Plaintext"] == b"p" * 4096 and back["KeyId"] == meta["Arn"]


def test_reencrypt(kms):
    a, b = new_key(kms), new_key(kms)
    blob = kms.encrypt(KeyId=a["KeyId"], Plaintext=b"move me", EncryptionContext={"k": "a"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"k": "a"}, DestinationKeyId=b["Arn"],
                         DestinationEncryptionContext={"k": "b"}, SourceKeyId=a["KeyId"])
    assert out["SourceKeyId"] == a["Arn"] and out["KeyId"] == b["Arn"]
    assert out["SourceEncryptionAlgorithm"] == out["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"k": "b"})["Plaintext"] == b"move me"


def test_generate_data_key_is_usable_by_independent_code(kms):
    meta = new_key(kms)
    for spec, size in (("AES_256", 32), ("AES_128", 16)):
        out = kms.generate_data_key(KeyId=meta["KeyId"], KeySpec=spec, EncryptionContext={"purpose": "envelope"})
        assert len(out["Plaintext"]) == size and out["KeyId"] == meta["Arn"]
        # Envelope encryption as a client does it: the data key works in `cryptography`'s AES-GCM,
        # and the encrypted copy decrypts back to it.
        sealed = AESGCM(out["Plaintext"]).encrypt(b"\0" * 12, b"bulk data", None)
        recovered = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"purpose": "envelope"})["Plaintext"]
        assert AESGCM(recovered).decrypt(b"\0" * 12, sealed, None) == b"bulk data"
    assert len(kms.generate_data_key(KeyId=meta["KeyId"], NumberOfBytes=1)["Plaintext"]) == 1
    assert len(kms.generate_data_key(KeyId=meta["KeyId"], NumberOfBytes=1024)["Plaintext"]) == 1024
    out = kms.generate_data_key_without_plaintext(KeyId=meta["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in out and out["KeyId"] == meta["Arn"]
    assert len(kms.decrypt(CiphertextBlob=out["CiphertextBlob"])["Plaintext"]) == 32


def test_generate_random(kms):
    values = {kms.generate_random(NumberOfBytes=32)["Plaintext"] for _ in range(5)}
    assert len(values) == 5 and all(len(v) == 32 for v in values)
    assert len(kms.generate_random(NumberOfBytes=1024)["Plaintext"]) == 1024


def test_update_description_enable_disable(kms):
    meta = new_key(kms)
    kms.update_key_description(KeyId=meta["KeyId"], Description="changed")
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["Description"] == "changed"
    kms.disable_key(KeyId=meta["KeyId"])
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled" and described["Enabled"] is False
    kms.enable_key(KeyId=meta["Arn"])
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"


def test_schedule_and_cancel_deletion(kms):
    meta = new_key(kms)
    out = kms.schedule_key_deletion(KeyId=meta["KeyId"], PendingWindowInDays=7)
    assert out["KeyId"] == meta["Arn"] and out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    delta = out["DeletionDate"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=6, hours=23) < delta <= datetime.timedelta(days=7)
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "PendingDeletion" and described["PendingDeletionWindowInDays"] == 7
    assert "DeletionDate" in described
    assert kms.cancel_key_deletion(KeyId=meta["KeyId"])["KeyId"] == meta["Arn"]
    described = kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]
    assert described["KeyState"] == "Disabled" and "DeletionDate" not in described
    default = kms.schedule_key_deletion(KeyId=meta["KeyId"])
    assert default["PendingWindowInDays"] == 30


def test_list_keys_paginates(kms):
    created = {new_key(kms)["KeyId"] for _ in range(4)}
    page = kms.list_keys(Limit=2)
    assert len(page["Keys"]) == 2 and page["Truncated"] is True and "NextMarker" in page
    listed = [k for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 3}) for k in p["Keys"]]
    ids = [k["KeyId"] for k in listed]
    assert created <= set(ids) and len(ids) == len(set(ids))
    assert all(k["KeyArn"].endswith(k["KeyId"]) for k in listed)


def test_aliases(kms):
    a, b = new_key(kms), new_key(kms)
    kms.create_alias(AliasName="alias/app/one", TargetKeyId=a["Arn"])
    kms.create_alias(AliasName="alias/app/two", TargetKeyId=a["KeyId"])
    entries = {e["AliasName"]: e for e in kms.list_aliases(KeyId=a["KeyId"])["Aliases"]}
    assert set(entries) == {"alias/app/one", "alias/app/two"}
    one = entries["alias/app/one"]
    assert one["AliasArn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/app/one" and one["TargetKeyId"] == a["KeyId"]
    assert isinstance(one["CreationDate"], datetime.datetime) and isinstance(one["LastUpdatedDate"], datetime.datetime)
    kms.update_alias(AliasName="alias/app/one", TargetKeyId=b["KeyId"])
    assert kms.describe_key(KeyId="alias/app/one")["KeyMetadata"]["KeyId"] == b["KeyId"]
    page = kms.list_aliases(Limit=1)
    assert len(page["Aliases"]) == 1 and page["Truncated"] is True
    names = [e["AliasName"] for p in kms.get_paginator("list_aliases").paginate(PaginationConfig={"PageSize": 1}) for e in p["Aliases"]]
    assert {"alias/app/one", "alias/app/two"} <= set(names)
    kms.delete_alias(AliasName="alias/app/two")
    assert [e["AliasName"] for e in kms.list_aliases(KeyId=a["KeyId"])["Aliases"]] == []


def test_tags(kms):
    meta = new_key(kms)
    kms.tag_resource(KeyId=meta["KeyId"], Tags=[{"TagKey": f"k{i:02}", "TagValue": str(i)} for i in range(5)])
    kms.tag_resource(KeyId=meta["Arn"], Tags=[{"TagKey": "k00", "TagValue": "new"}])
    kms.untag_resource(KeyId=meta["KeyId"], TagKeys=["k01", "absent"])
    page = kms.list_resource_tags(KeyId=meta["KeyId"], Limit=2)
    assert page["Tags"] == [{"TagKey": "k00", "TagValue": "new"}, {"TagKey": "k02", "TagValue": "2"}] and page["Truncated"]
    rest = kms.list_resource_tags(KeyId=meta["KeyId"], Marker=page["NextMarker"])
    assert [t["TagKey"] for t in rest["Tags"]] == ["k03", "k04"] and rest["Truncated"] is False


def test_keys_live_in_their_region(server, kms):
    meta = new_key(kms)
    west = server.client(region="eu-west-1")
    west_key = west.create_key()["KeyMetadata"]
    assert west_key["Arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/")
    west_ids = [k["KeyId"] for k in west.list_keys()["Keys"]]
    assert west_key["KeyId"] in west_ids and meta["KeyId"] not in west_ids


def test_responses_carry_request_id(server):
    status, headers, body = server.raw("TrentService.ListKeys", b"{}")
    assert status == 200 and len(headers["x-amzn-RequestId"]) == 36
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    status, headers, body = server.raw("TrentService.Nope", b"{}")
    assert status == 400 and "x-amzn-RequestId" in headers
