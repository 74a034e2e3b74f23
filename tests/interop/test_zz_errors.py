"""Every error code each operation can raise, by AWS's model, provoked at least once by the
run (after everything else: this module's name sorts last). The clients record every error
they were answered (`conftest.PROVOKED`: boto3's hook, raw requests, the AWS CLI's stderr).

What is left out is named, with why: errors no request can provoke here, errors the key-state
table never raises for an operation, and the ones still to provoke (`NOT_YET`), a list that
may only shrink."""
import json
import os

import pytest

from conftest import PROVOKED, ROOT

from test_error_matrix import ALLOWED_DISABLED, ALLOWED_PENDING_DELETION

MODEL = json.load(open(os.path.join(ROOT, "spec", "kms-2014-11-01.service.json")))
MODULES = {name for name in os.listdir(os.path.dirname(os.path.abspath(__file__))) if name.startswith("test_") and name.endswith(".py")}

# No request can make these happen on purpose: a failure inside the server or its store, and
# a dependency (HSM, XKS proxy) that does not answer in time.
NEVER_ON_PURPOSE = {"KMSInternalException", "DependencyTimeoutException"}

# Errors AWS raises for what this server does not have, by operation: why each never happens here.
NEVER_HERE = {
    "KeyUnavailableException": (
        "AWS's answer when a key's material is momentarily out of reach inside AWS; here it is in the server's own store (a store "
        "failure is KMSInternalException), and a custom key store's HSM or proxy failing gives its own errors",
        ["Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
         "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GetPublicKey", "ReEncrypt", "Sign", "Verify", "VerifyMac"]),
    "ConflictException": ("AWS's answer to an on-demand rotation while another is in progress; here a rotation is one transaction",
                          ["RotateKeyOnDemand"]),
    "LimitExceededException": ("no quota of this server bounds enabling a key", ["EnableKey"]),
    "CloudHsmClusterInvalidConfigurationException": (
        "a CloudHSM cluster is a registered PKCS#11 token here: it has no subnets, security group or count of HSMs to get wrong",
        ["ConnectCustomKeyStore", "CreateCustomKeyStore", "CreateKey", "UpdateCustomKeyStore"]),
    "CloudHsmClusterNotActiveException": (
        "a registered token is initialised (registration finds it by its label); one that is gone is ConnectionErrorCode "
        "CLUSTER_NOT_FOUND, as a deleted cluster is at AWS",
        ["ConnectCustomKeyStore", "CreateCustomKeyStore", "UpdateCustomKeyStore"]),
    "XksProxyUriEndpointInUseException": (
        "only an external key store of VPC_ENDPOINT_SERVICE connectivity needs an endpoint of its own, and that connectivity is "
        "UnsupportedOperationException here (AWS's VPC endpoint services are not reachable from this server)",
        ["CreateCustomKeyStore", "UpdateCustomKeyStore"]),
    "XksProxyVpcEndpointServiceInUseException": ("VPC_ENDPOINT_SERVICE connectivity is UnsupportedOperationException here",
                                                 ["CreateCustomKeyStore", "UpdateCustomKeyStore"]),
    "XksProxyVpcEndpointServiceInvalidConfigurationException": (
        "VPC_ENDPOINT_SERVICE connectivity is UnsupportedOperationException here", ["CreateCustomKeyStore", "UpdateCustomKeyStore"]),
    "XksProxyVpcEndpointServiceNotFoundException": ("VPC_ENDPOINT_SERVICE connectivity is UnsupportedOperationException here",
                                                    ["CreateCustomKeyStore", "UpdateCustomKeyStore"]),
    "InvalidArnException": ("CreateKey has no ARN member; a principal in its policy that is not one is MalformedPolicyDocumentException",
                            ["CreateKey"]),
    "InvalidKeyUsageException": (
        "every asymmetric key's usage allows GetPublicKey; a symmetric or HMAC key is UnsupportedOperationException, as AWS documents",
        ["GetPublicKey"]),
    "NotFoundException": (
        "ListRetirableGrants names no key; a retiring principal no grant names lists no grants (AWS documents no cause)",
        ["ListRetirableGrants"]),
    "UnsupportedOperationException": (
        "every key has a key policy to replace; a PolicyName other than default is NotFoundException (AWS documents no cause)",
        ["PutKeyPolicy"]),
}

# Not provoked yet: none (the list ran from 28 on 2026-12-03 to 0 on 2026-12-04). A pair the model
# adds goes here until a test provokes it, or into NEVER_HERE with the reason.
NOT_YET = set()


def model_errors():
    return {(operation, error["shape"]) for operation, shape in MODEL["operations"].items() for error in shape.get("errors", [])}


def never_raised():
    """(operation, error) pairs the key-state table rules out (`test_error_matrix.py`), and
    those of `NEVER_HERE`."""
    return {(op, "KMSInvalidStateException") for op in ALLOWED_PENDING_DELETION - {"CancelKeyDeletion"}} | {
        (op, "DisabledException") for op in ALLOWED_DISABLED} | {(op, error) for error, (_, ops) in NEVER_HERE.items() for op in ops}


def test_every_error_of_every_operation_was_provoked(request):
    ran = {os.path.basename(str(item.fspath)) for item in request.session.items}
    if ran != MODULES:
        pytest.skip("only a run of the whole interop suite provokes them all")
    expected = {(op, error) for op, error in model_errors() if error not in NEVER_ON_PURPOSE} - never_raised()
    missing = expected - PROVOKED
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "swiftkms-errors-not-provoked.json"), "w") as report:
        json.dump(sorted(missing), report, indent=0)
    assert not (never_raised() & PROVOKED), f"provoked, yet named as never raised: {sorted(never_raised() & PROVOKED)}"
    assert not (NOT_YET & PROVOKED), f"provoked now, remove from NOT_YET: {sorted(NOT_YET & PROVOKED)}"
    assert missing <= NOT_YET, f"no longer provoked: {sorted(missing - NOT_YET)}"
