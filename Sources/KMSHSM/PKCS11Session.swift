import CPKCS11
import Foundation

/// A read-write session on one token, logged in as its user (the crypto user: AWS's `kmsuser`).
/// One thread at a time (PKCS#11 sessions are not for concurrent use); pool them for more.
public final class PKCS11Session: @unchecked Sendable {
    // @unchecked: callers use one session from one task at a time (`PKCS11SessionPool`).
    let module: PKCS11Module
    let handle: CK_SESSION_HANDLE

    /// Opens a session on `slot` and logs the user in with `pin`.
    public init(module: PKCS11Module, slot: CK_SLOT_ID, pin: String) throws(PKCS11Error) {
        self.module = module
        var session: CK_SESSION_HANDLE = 0
        try PKCS11Module.check(
            "C_OpenSession", module.functions.pointee.C_OpenSession(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session))
        handle = session
        var pinBytes = Array(pin.utf8)
        defer { for i in pinBytes.indices { pinBytes[i] = 0 } }
        let login = module.functions.pointee.C_Login(session, CK_USER_TYPE(CKU_USER), &pinBytes, CK_ULONG(pinBytes.count))
        if login != CKR_OK && login != CKR_USER_ALREADY_LOGGED_IN {
            _ = module.functions.pointee.C_CloseSession(session)
            throw PKCS11Error(function: "C_Login", code: UInt(login))
        }
    }

    deinit { _ = module.functions.pointee.C_CloseSession(handle) }

    /// Checks `pin` against the token: logs the token out first, since a login made by any
    /// session of this process would otherwise let `C_Login` answer CKR_USER_ALREADY_LOGGED_IN
    /// without looking at the PIN. (Sessions of pools on that token then log in again.)
    public static func verifyPIN(module: PKCS11Module, slot: CK_SLOT_ID, pin: String) throws(PKCS11Error) {
        var session: CK_SESSION_HANDLE = 0
        let functions = module.functions.pointee
        try PKCS11Module.check("C_OpenSession", functions.C_OpenSession(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session))
        defer { _ = functions.C_CloseSession(session) }
        _ = functions.C_Logout(session)
        var pinBytes = Array(pin.utf8)
        defer { for i in pinBytes.indices { pinBytes[i] = 0 } }
        try PKCS11Module.check("C_Login", functions.C_Login(session, CK_USER_TYPE(CKU_USER), &pinBytes, CK_ULONG(pinBytes.count)))
    }

    /// Generates a token AES-256 key that never leaves the token: sensitive, not extractable,
    /// usable only to encrypt and decrypt (not to sign, verify, derive, wrap or unwrap), labelled
    /// `label`. `encrypt` or `decrypt` false leaves that use off too.
    public func generateAESKey(label: String, encrypt: Bool = true, decrypt: Bool = true) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
        var yes = CK_BBOOL(CK_TRUE)
        var no = CK_BBOOL(CK_FALSE)
        var encrypts = CK_BBOOL(encrypt ? CK_TRUE : CK_FALSE)
        var decrypts = CK_BBOOL(decrypt ? CK_TRUE : CK_FALSE)
        var length = CK_ULONG(32)
        var labelBytes = Array(label.utf8)
        var key: CK_OBJECT_HANDLE = 0
        let result = withUnsafeMutableBytes(of: &yes) { yes in
            withUnsafeMutableBytes(of: &no) { no in
                withUnsafeMutableBytes(of: &encrypts) { encrypts in
                    withUnsafeMutableBytes(of: &decrypts) { decrypts in
                        withUnsafeMutableBytes(of: &length) { length in
                            labelBytes.withUnsafeMutableBytes { label in
                                var template = [
                                    Self.attribute(CKA_TOKEN, yes), Self.attribute(CKA_PRIVATE, yes), Self.attribute(CKA_SENSITIVE, yes),
                                    Self.attribute(CKA_EXTRACTABLE, no), Self.attribute(CKA_ENCRYPT, encrypts), Self.attribute(CKA_DECRYPT, decrypts),
                                    Self.attribute(CKA_WRAP, no), Self.attribute(CKA_UNWRAP, no), Self.attribute(CKA_SIGN, no),
                                    Self.attribute(CKA_VERIFY, no), Self.attribute(CKA_DERIVE, no), Self.attribute(CKA_VALUE_LEN, length),
                                    Self.attribute(CKA_LABEL, label),
                                ]
                                return module.functions.pointee.C_GenerateKey(handle, &mechanism, &template, CK_ULONG(template.count), &key)
                            }
                        }
                    }
                }
            }
        }
        try PKCS11Module.check("C_GenerateKey", result)
        return key
    }

    /// The secret key labelled `label`, if the token holds exactly one.
    public func findKey(label: String) throws(PKCS11Error) -> CK_OBJECT_HANDLE? {
        var keyClass = CK_OBJECT_CLASS(CKO_SECRET_KEY)
        var labelBytes = Array(label.utf8)
        let begun = withUnsafeMutableBytes(of: &keyClass) { keyClass in
            labelBytes.withUnsafeMutableBytes { label in
                var template = [Self.attribute(CKA_CLASS, keyClass), Self.attribute(CKA_LABEL, label)]
                return module.functions.pointee.C_FindObjectsInit(handle, &template, CK_ULONG(template.count))
            }
        }
        try PKCS11Module.check("C_FindObjectsInit", begun)
        defer { _ = module.functions.pointee.C_FindObjectsFinal(handle) }
        var found = [CK_OBJECT_HANDLE](repeating: 0, count: 2)
        var count: CK_ULONG = 0
        try PKCS11Module.check("C_FindObjects", module.functions.pointee.C_FindObjects(handle, &found, 2, &count))
        return count == 1 ? found[0] : nil
    }

    /// AES-GCM inside the token: `iv` (12 bytes), `aad`, a 16-byte tag appended to the ciphertext.
    public func encryptAESGCM(key: CK_OBJECT_HANDLE, iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try gcm(encrypt: true, key: key, iv: iv, aad: aad, input: plaintext)
    }

    /// The plaintext of `ciphertext` (tag last); a wrong key, IV, AAD or tag fails.
    public func decryptAESGCM(key: CK_OBJECT_HANDLE, iv: [UInt8], aad: [UInt8], ciphertext: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try gcm(encrypt: false, key: key, iv: iv, aad: aad, input: ciphertext)
    }

    private func gcm(encrypt: Bool, key: CK_OBJECT_HANDLE, iv: [UInt8], aad: [UInt8], input: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        var iv = iv
        var aad = aad
        var input = input
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var outputLength = CK_ULONG(output.count)
        let name = encrypt ? "C_Encrypt" : "C_Decrypt"
        let result: CK_RV = iv.withUnsafeMutableBufferPointer { iv in
            aad.withUnsafeMutableBufferPointer { aad in
                var parameters = CK_GCM_PARAMS(
                    pIv: iv.baseAddress, ulIvLen: CK_ULONG(iv.count), ulIvBits: CK_ULONG(iv.count * 8), pAAD: aad.baseAddress,
                    ulAADLen: CK_ULONG(aad.count), ulTagBits: 128)
                return withUnsafeMutableBytes(of: &parameters) { parameters in
                    var mechanism = CK_MECHANISM(
                        mechanism: CK_MECHANISM_TYPE(CKM_AES_GCM), pParameter: parameters.baseAddress, ulParameterLen: CK_ULONG(parameters.count))
                    let functions = module.functions.pointee
                    let begun = encrypt ? functions.C_EncryptInit(handle, &mechanism, key) : functions.C_DecryptInit(handle, &mechanism, key)
                    guard begun == CKR_OK else { return begun }
                    return encrypt
                        ? functions.C_Encrypt(handle, &input, CK_ULONG(input.count), &output, &outputLength)
                        : functions.C_Decrypt(handle, &input, CK_ULONG(input.count), &output, &outputLength)
                }
            }
        }
        try PKCS11Module.check(name, result)
        return Array(output.prefix(Int(outputLength)))
    }

    /// `count` bytes from the token's random number generator.
    public func generateRandom(count: Int) throws(PKCS11Error) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try PKCS11Module.check("C_GenerateRandom", module.functions.pointee.C_GenerateRandom(handle, &bytes, CK_ULONG(count)))
        return bytes
    }

    /// Destroys a token object (a key whose KMS key was deleted).
    public func destroy(_ object: CK_OBJECT_HANDLE) throws(PKCS11Error) {
        try PKCS11Module.check("C_DestroyObject", module.functions.pointee.C_DestroyObject(handle, object))
    }

    /// Whether a key's attribute is CK_TRUE (`CKA_SENSITIVE`, `CKA_EXTRACTABLE`, …).
    public func flag(_ attribute: CK_ATTRIBUTE_TYPE, of key: CK_OBJECT_HANDLE) throws(PKCS11Error) -> Bool {
        var value = CK_BBOOL(CK_FALSE)
        let result = withUnsafeMutableBytes(of: &value) { value in
            var template = [Self.attribute(attribute, value)]
            return module.functions.pointee.C_GetAttributeValue(handle, key, &template, 1)
        }
        try PKCS11Module.check("C_GetAttributeValue", result)
        return value == CK_BBOOL(CK_TRUE)
    }

    /// A key's CK_ULONG attribute (`CKA_KEY_TYPE`, `CKA_VALUE_LEN`, …).
    public func number(_ attribute: CK_ATTRIBUTE_TYPE, of key: CK_OBJECT_HANDLE) throws(PKCS11Error) -> UInt {
        var value = CK_ULONG(0)
        let result = withUnsafeMutableBytes(of: &value) { value in
            var template = [Self.attribute(attribute, value)]
            return module.functions.pointee.C_GetAttributeValue(handle, key, &template, 1)
        }
        try PKCS11Module.check("C_GetAttributeValue", result)
        return UInt(value)
    }

    /// Reads a key's value: refused by the token for a sensitive key (`CKR_ATTRIBUTE_SENSITIVE`).
    public func value(of key: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8] {
        var template = [CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(CKA_VALUE), pValue: nil, ulValueLen: 0)]
        try PKCS11Module.check("C_GetAttributeValue", module.functions.pointee.C_GetAttributeValue(handle, key, &template, 1))
        var bytes = [UInt8](repeating: 0, count: Int(template[0].ulValueLen))
        let result = bytes.withUnsafeMutableBytes { bytes in
            template[0].pValue = bytes.baseAddress
            return module.functions.pointee.C_GetAttributeValue(handle, key, &template, 1)
        }
        try PKCS11Module.check("C_GetAttributeValue", result)
        return bytes
    }

    private static func attribute(_ type: some BinaryInteger, _ value: UnsafeMutableRawBufferPointer) -> CK_ATTRIBUTE {
        CK_ATTRIBUTE(type: CK_ATTRIBUTE_TYPE(type), pValue: value.baseAddress, ulValueLen: CK_ULONG(value.count))
    }
}
