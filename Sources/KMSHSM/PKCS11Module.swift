import CPKCS11
import Foundation
import Synchronization

/// A PKCS#11 failure: the function that failed and its return value (`CKR_*`), never data.
public struct PKCS11Error: Error, CustomStringConvertible, Equatable {
    public var function: String
    public var code: UInt

    public var description: String { "\(function) failed: \(Self.name(of: code))" }

    /// Whether an object handle no longer names an object (it was destroyed, or its token
    /// went away): look the object up again.
    public var meansStaleHandle: Bool { code == UInt(CKR_OBJECT_HANDLE_INVALID) || code == UInt(CKR_KEY_HANDLE_INVALID) }

    /// Whether the token, its device or the session is gone (not a refusal of this one call).
    public var meansTokenGone: Bool {
        [CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR, CKR_SLOT_ID_INVALID, CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED]
            .map { UInt($0) }.contains(code)
    }

    public static func name(of code: UInt) -> String {
        switch code {
        case UInt(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT"
        case UInt(CKR_PIN_LOCKED): "CKR_PIN_LOCKED"
        case UInt(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT"
        case UInt(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED"
        case UInt(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID"
        case UInt(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID"
        case UInt(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE"
        case UInt(CKR_KEY_UNEXTRACTABLE): "CKR_KEY_UNEXTRACTABLE"
        case UInt(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID"
        case UInt(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED"
        case UInt(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR"
        default: "CKR 0x" + String(code, radix: 16)
        }
    }
}

/// A PKCS#11 module (an HSM vendor's library, or SoftHSM2) loaded with `dlopen` and
/// initialised for use from many threads (`CKF_OS_LOCKING_OK`). Stays loaded for the process.
public final class PKCS11Module: @unchecked Sendable {
    // @unchecked: `functions` is the module's own table, immutable once returned, and the
    // module was initialised for concurrent calls from any thread.
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    public let path: String

    /// The module at `path`, loaded and initialised once for the process: PKCS#11 allows one
    /// C_Initialize per process, and two racing ones left SoftHSM2 answering
    /// CKR_CRYPTOKI_NOT_INITIALIZED to the loser.
    public static func load(path: String) throws(PKCS11Error) -> PKCS11Module {
        try loaded.withLock { (loaded: inout [String: PKCS11Module]) throws(PKCS11Error) -> PKCS11Module in
            if let module = loaded[path] { return module }
            let module = try PKCS11Module(path: path)
            loaded[path] = module
            return module
        }
    }

    private static let loaded = Mutex<[String: PKCS11Module]>([:])

    private init(path: String) throws(PKCS11Error) {
        self.path = path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { throw PKCS11Error(function: "dlopen", code: 0) }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else { throw PKCS11Error(function: "dlsym(C_GetFunctionList)", code: 0) }
        typealias GetFunctionList = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CK_FUNCTION_LIST>?>?) -> CK_RV
        let getFunctionList = unsafeBitCast(symbol, to: GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        try Self.check("C_GetFunctionList", getFunctionList(&list))
        guard let list else { throw PKCS11Error(function: "C_GetFunctionList", code: 0) }
        functions = list
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initialised = withUnsafeMutablePointer(to: &arguments) { functions.pointee.C_Initialize($0) }
        if initialised != CKR_CRYPTOKI_ALREADY_INITIALIZED { try Self.check("C_Initialize", initialised) }
    }

    static func check(_ function: String, _ value: CK_RV) throws(PKCS11Error) {
        guard value == CKR_OK else { throw PKCS11Error(function: function, code: UInt(value)) }
    }

    /// Initialises the token in the first slot that has an uninitialised one (SoftHSM2 always
    /// keeps one free): label, security officer PIN, then the user PIN. For tests and setup.
    public func initializeFreeToken(label: String, soPIN: String, userPIN: String) throws(PKCS11Error) -> CK_SLOT_ID {
        for slot in try slotsWithTokens() {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo(slot, &info) == CKR_OK, info.flags & CK_FLAGS(CKF_TOKEN_INITIALIZED) == 0 else { continue }
            var so = Array(soPIN.utf8)
            var user = Array(userPIN.utf8)
            var padded = Array(label.utf8.prefix(32)) + [UInt8](repeating: 0x20, count: max(0, 32 - label.utf8.count))
            try Self.check("C_InitToken", functions.pointee.C_InitToken(slot, &so, CK_ULONG(so.count), &padded))
            var session: CK_SESSION_HANDLE = 0
            try Self.check(
                "C_OpenSession", functions.pointee.C_OpenSession(slot, CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session))
            defer { _ = functions.pointee.C_CloseSession(session) }
            try Self.check("C_Login", functions.pointee.C_Login(session, CK_USER_TYPE(CKU_SO), &so, CK_ULONG(so.count)))
            try Self.check("C_InitPIN", functions.pointee.C_InitPIN(session, &user, CK_ULONG(user.count)))
            _ = functions.pointee.C_Logout(session)
            return try self.slot(tokenLabel: label)
        }
        throw PKCS11Error(function: "C_GetTokenInfo", code: UInt(CKR_TOKEN_NOT_PRESENT))
    }

    /// The slots that hold a token.
    private func slotsWithTokens() throws(PKCS11Error) -> ArraySlice<CK_SLOT_ID> {
        var count: CK_ULONG = 0
        try Self.check("C_GetSlotList", functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), nil, &count))
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try Self.check("C_GetSlotList", functions.pointee.C_GetSlotList(CK_BBOOL(CK_TRUE), &slots, &count))
        return slots.prefix(Int(count))
    }

    /// Whether a token with this label is present.
    public func hasToken(label: String) -> Bool {
        (try? slot(tokenLabel: label)) != nil
    }

    /// The slot whose token has this label (PKCS#11 pads labels to 32 bytes with spaces).
    public func slot(tokenLabel: String) throws(PKCS11Error) -> CK_SLOT_ID {
        for slot in try slotsWithTokens() {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo(slot, &info) == CKR_OK else { continue }
            let label = withUnsafeBytes(of: info.label) { String(decoding: $0, as: UTF8.self) }
            if label.trimmingCharacters(in: .whitespaces) == tokenLabel { return slot }
        }
        throw PKCS11Error(function: "C_GetTokenInfo", code: UInt(CKR_TOKEN_NOT_PRESENT))
    }

    /// What a token says of itself: manufacturer, model and serial number (blank-padded fields trimmed).
    public func tokenDescription(slot: CK_SLOT_ID) throws(PKCS11Error) -> (manufacturer: String, model: String, serialNumber: String) {
        var info = CK_TOKEN_INFO()
        try Self.check("C_GetTokenInfo", functions.pointee.C_GetTokenInfo(slot, &info))
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0, as: UTF8.self) }.trimmingCharacters(in: .whitespaces)
        }
        return (text(info.manufacturerID), text(info.model), text(info.serialNumber))
    }
}
