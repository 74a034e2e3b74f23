"""An independent PKCS#11 client (python-pkcs11), run as its own process so that each test's
SoftHSM2 configuration is the one it loads (a module reads SOFTHSM2_CONF once per process).

    python3 pkcs11_client.py MODULE TOKEN PIN LABEL inspect
    python3 pkcs11_client.py MODULE TOKEN PIN LABEL decrypt IV_HEX AAD_HEX SEALED_HEX
    python3 pkcs11_client.py MODULE TOKEN PIN LABEL destroy

prints one JSON object: the key's flags and whether reading its value was refused, the
plaintext (hex) AES-GCM in the token gives, or that the key was destroyed."""

import json
import subprocess
import sys


def run(env, module, token, pin, label, *args):
    """Runs this file with `env` (SOFTHSM2_CONF) and returns its JSON answer."""
    out = subprocess.run([sys.executable, __file__, module, token, pin, label, *args], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def main(module, token, pin, label, action, *args):
    import pkcs11
    from pkcs11 import Attribute, Mechanism, ObjectClass
    from pkcs11.mechanisms import GCMParams
    with pkcs11.lib(module).get_token(token_label=token).open(user_pin=pin, rw=action == "destroy") as session:
        key = session.get_key(object_class=ObjectClass.SECRET_KEY, label=label)
        if action == "inspect":
            try:
                key[Attribute.VALUE]
                value_refused = False
            except pkcs11.exceptions.AttributeSensitive:
                value_refused = True
            print(json.dumps({"sensitive": key[Attribute.SENSITIVE], "extractable": key[Attribute.EXTRACTABLE],
                              "neverExtractable": key[Attribute.NEVER_EXTRACTABLE], "valueLen": key[Attribute.VALUE_LEN],
                              "signOrVerify": key[Attribute.SIGN] or key[Attribute.VERIFY],
                              "valueRefused": value_refused}))
        elif action == "destroy":
            key.destroy()
            print(json.dumps({"destroyed": label}))
        else:
            iv, aad, sealed = (bytes.fromhex(a) for a in args)
            plain = key.decrypt(sealed, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce=iv, aad=aad, tag_bits=128))
            print(json.dumps({"plaintext": plain.hex()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
