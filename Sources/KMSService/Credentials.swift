import Foundation
import KMSStorage

/// Principals and their access keys: SigV4 lookups for the server, and the admin commands.
///
/// Secrets are generated from the system CSPRNG, stored only sealed under the root key,
/// and returned in the clear only once, to the admin who created them.
public struct Credentials: Sendable {
    let store: any Store
    let rootKey: RootKey
    let clock: any KMSClock

    public init(store: any Store, rootKey: RootKey, clock: any KMSClock = SystemClock()) {
        self.store = store
        self.rootKey = rootKey
        self.clock = clock
    }

    /// A newly created access key, with its secret in the clear.
    public struct IssuedAccessKey: Sendable {
        public var accessKeyID: String
        public var secretAccessKey: String
        public var principal: Principal
    }

    /// The principal and secret of an access key, for verifying a signature; nil when unknown.
    public func secret(accessKeyID: String) async throws(KMSError) -> (principal: Principal, secret: String)? {
        guard let key = try await call({ () throws(StoreError) in try await store.accessKey(id: accessKeyID) }) else { return nil }
        return (key.principal, try rootKey.openCredential(key.sealedSecret, accessKeyID: key.id))
    }

    /// Makes sure the account's root has an access key. With `given` credentials, adds them
    /// when absent; otherwise generates a key when the root has none.
    ///
    /// - Returns: the key generated, or nil when nothing was generated.
    public func bootstrapRoot(account: String, given: (accessKeyID: String, secret: String)?) async throws(KMSError) -> IssuedAccessKey? {
        let root = Principal.root(account: account)
        try await ensurePrincipal(root)
        if let given {
            guard Self.isValidAccessKeyID(given.accessKeyID), given.secret.count >= 16 else {
                throw KMSError.validation("SWIFTKMS_ROOT_ACCESS_KEY_ID must be 16–128 letters and digits, and SWIFTKMS_ROOT_SECRET_ACCESS_KEY at least 16 characters.")
            }
            if try await call({ () throws(StoreError) in try await store.accessKey(id: given.accessKeyID) }) == nil {
                try await insert(AccessKey(id: given.accessKeyID, principal: root,
                                           sealedSecret: rootKey.sealCredential(secret: given.secret, accessKeyID: given.accessKeyID)))
            }
            return nil
        }
        guard try await call({ () throws(StoreError) in try await store.accessKeys(of: root) }).isEmpty else { return nil }
        return try await createAccessKey(for: root)
    }

    /// Creates an IAM-style user `arn:aws:iam::ACCOUNT:user/NAME` with one access key.
    public func createUser(account: String, name: String) async throws(KMSError) -> IssuedAccessKey {
        guard Self.isValidUserName(name) else {
            throw KMSError.validation("User names are 1–64 characters of letters, digits and +=,.@_-, and not 'root'.")
        }
        let user = Principal(account: account, name: name)
        do {
            try await store.commit([.insertPrincipal(user, creationDate: clock.now())])
        } catch .alreadyExists {
            throw KMSError(.alreadyExists, "User \(user.arn) already exists.")
        } catch {
            throw KMSError.internalFailure()
        }
        return try await createAccessKey(for: user)
    }

    /// Adds an access key to an existing principal.
    public func createAccessKey(account: String, userName: String) async throws(KMSError) -> IssuedAccessKey {
        let principal = Principal(account: account, name: userName)
        guard try await call({ () throws(StoreError) in try await store.principals(account: account) }).contains(principal) else {
            throw KMSError.notFound("No user \(principal.arn).")
        }
        return try await createAccessKey(for: principal)
    }

    /// Principals of an account with the IDs (never the secrets) of their access keys.
    public func listUsers(account: String) async throws(KMSError) -> [(principal: Principal, accessKeyIDs: [String])] {
        var result: [(Principal, [String])] = []
        for principal in try await call({ () throws(StoreError) in try await store.principals(account: account) }) {
            let keys = try await call { () throws(StoreError) in try await store.accessKeys(of: principal) }
            result.append((principal, keys.map(\.id)))
        }
        return result
    }

    public func deleteAccessKey(id: String) async throws(KMSError) {
        do {
            try await store.commit([.deleteAccessKey(id: id)])
        } catch .notFound {
            throw KMSError.notFound("No access key \(id).")
        } catch {
            throw KMSError.internalFailure()
        }
    }

    private func createAccessKey(for principal: Principal) async throws(KMSError) -> IssuedAccessKey {
        let id = "AKIA" + Self.randomString(length: 16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secret = Self.randomString(length: 40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        try await insert(AccessKey(id: id, principal: principal, sealedSecret: rootKey.sealCredential(secret: secret, accessKeyID: id)))
        return IssuedAccessKey(accessKeyID: id, secretAccessKey: secret, principal: principal)
    }

    private func ensurePrincipal(_ principal: Principal) async throws(KMSError) {
        do {
            try await store.commit([.insertPrincipal(principal, creationDate: clock.now())])
        } catch .alreadyExists {
            return
        } catch {
            throw KMSError.internalFailure()
        }
    }

    private func insert(_ key: AccessKey) async throws(KMSError) {
        try await call { () throws(StoreError) in try await store.commit([.insertAccessKey(key, creationDate: clock.now())]) }
    }

    private func call<T>(_ body: () async throws(StoreError) -> T) async throws(KMSError) -> T {
        do { return try await body() } catch { throw KMSError.internalFailure() }
    }

    /// Uniform characters from an alphabet whose size divides 256 (32 or 64), so no bias.
    static func randomString(length: Int, alphabet: String) -> String {
        let symbols = Array(alphabet)
        precondition(256 % symbols.count == 0)
        var rng = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in symbols[Int(rng.next() as UInt8) % symbols.count] })
    }

    static func isValidAccessKeyID(_ id: String) -> Bool {
        (16...128).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    static func isValidUserName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name != "root"
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_-".contains($0)) }
    }
}
