import Foundation
import KMSStorage

/// How operations find a key, check it and use it: resolving a `KeyId`, the usage and
/// algorithm checks, authorization with the key-state check (`KeyLifecycle`), and sealing
/// under a key's current material.
extension KeyManagementService {
    // MARK: Resolving keys

    /// Finds the key a `KeyId` member names.
    ///
    /// - Parameters:
    ///   - allowAlias: whether the operation accepts alias names and alias ARNs
    ///     (cryptographic operations and DescribeKey do; management operations don't).
    ///   - crossAccount: whether the operation may name a key of another account by key ARN
    ///     or alias ARN (authorization then decides); other operations refuse such ARNs.
    func resolveKey(
        _ keyIdText: String, _ context: RequestContext, allowAlias: Bool, action: KMSAction, crossAccount: Bool = false
    ) async throws(KMSError) -> KMSKey {
        let reference = try KeyReference.parse(keyIdText)
        var account = context.account
        let keyID: String
        switch reference {
        case .keyID(let id):
            guard ResourceName.isWellFormedKeyID(id) else { throw KMSError.notFound("Invalid keyId '\(keyIdText)'") }
            keyID = id
        case .keyARN(let region, let arnAccount, let id):
            try checkScope(region: region, account: arnAccount, context, resource: keyIdText, action: action, crossAccount: crossAccount)
            guard ResourceName.isWellFormedKeyID(id) else { throw KMSError.keyNotFound(keyIdText) }
            account = arnAccount
            keyID = id
        case .aliasName(let name), .aliasARN(_, _, let name):
            guard allowAlias else { throw KMSError.notFound("Invalid keyId '\(keyIdText)'") }
            if case .aliasARN(let region, let arnAccount, _) = reference {
                try checkScope(region: region, account: arnAccount, context, resource: keyIdText, action: action, crossAccount: crossAccount)
                account = arnAccount
            }
            if let alias = try await store.alias(account: account, region: context.region, name: name) {
                keyID = alias.targetKeyID
            } else if account == context.account, let managed = try await awsManagedKeyOnFirstUse(aliasName: name, context) {
                keyID = managed.id
            } else {
                throw KMSError.aliasNotFound(ResourceName.aliasARN(region: context.region, account: account, aliasName: name))
            }
        }
        guard var key = try await store.key(id: keyID, region: context.region),
            key.account == account, key.region == context.region
        else { throw KMSError.keyNotFound(ResourceName.keyARN(region: context.region, account: account, keyID: keyID)) }
        try await noteStoreConnection(&key)
        context.audit.noteKey(key)
        return key
    }

    /// An ARN in another region names no key here (AWS's words name only that region); one
    /// in another account is refused unless the operation works across accounts.
    private func checkScope(
        region: String, account: String, _ context: RequestContext, resource: String, action: KMSAction, crossAccount: Bool
    ) throws(KMSError) {
        if account != context.account, !crossAccount {
            throw Self.denied(context, action, resource, .noResourcePolicy)
        }
        if region != context.region {
            throw KMSError.notFound("Invalid arn \(region)")
        }
    }

    // MARK: Key usage

    func requireUsage(_ key: KMSKey, _ usage: KeyUsage, operation: String) throws(KMSError) {
        guard key.usage == usage else {
            throw KMSError(.invalidKeyUsage, "\(key.arn) key usage is \(key.usage.rawValue) which is not valid for \(operation).")
        }
    }

    /// The algorithm (default `SYMMETRIC_DEFAULT`) must be one the key supports.
    @discardableResult
    func requireEncryptionAlgorithm(_ algorithm: EncryptionAlgorithm?, _ key: KMSKey) throws(KMSError) -> EncryptionAlgorithm {
        let algorithm = algorithm ?? .symmetricDefault
        guard key.encryptionAlgorithms.contains(algorithm) else {
            throw KMSError.incompatibleAlgorithm(algorithm.rawValue, key.spec)
        }
        return algorithm
    }

    /// Data keys and symmetric blobs need a symmetric encryption key.
    func requireSymmetric(_ key: KMSKey, operation: String) throws(KMSError) {
        guard key.spec == .symmetricDefault else {
            throw KMSError(.invalidKeyUsage, "\(key.arn) is not a symmetric encryption key, which \(operation) requires.")
        }
    }

    /// Refuses a request whose `DryRun` is set, once every check has passed.
    func finishDryRun(_ dryRun: Bool?) throws(KMSError) {
        if dryRun == true { throw Self.dryRunSucceeded }
    }

    /// The answer to a dry run that would have succeeded.
    static let dryRunSucceeded = KMSError(.dryRunOperation, "The request would have succeeded, but the DryRun option is set.")

    // MARK: Authorized, usable keys

    /// Resolves a key (aliases, and other accounts' keys by ARN, allowed), authorizes the
    /// request, and requires the key `Enabled` with `usage`.
    func usableKey(
        _ keyID: String, _ context: RequestContext, _ access: AccessRequest, operation: String, usage: KeyUsage = .encryptDecrypt
    ) async throws(KMSError) -> KMSKey {
        let key = try await resolveKey(keyID, context, allowAlias: true, action: access.action, crossAccount: true)
        return try await usable(key, context, access, operation: operation, usage: usage)
    }

    /// Authorizes the request on a resolved key and requires it `Enabled` with `usage`.
    func usable(
        _ key: KMSKey, _ context: RequestContext, _ access: AccessRequest, operation: String, usage: KeyUsage
    ) async throws(KMSError) -> KMSKey {
        try await authorize(context, access, key: key)
        try KeyLifecycle.check(access.action, on: key)
        try requireUsage(key, usage, operation: operation)
        return key
    }

    /// Encrypts with the key's current material version; `algorithm` is one the key supports.
    func encrypt(
        _ plaintext: Data, under key: KMSKey, algorithm: EncryptionAlgorithm, context: EncryptionContext, request: RequestContext
    ) async throws(KMSError) -> [UInt8] {
        if key.spec == .symmetricDefault { return try await seal(plaintext, under: key, context: context, request: request) }
        try Self.refuseContext(context, key)
        return try await currentMaterial(of: key, as: AsymmetricKeyMaterial.self).encrypt(Array(plaintext), algorithm: algorithm, spec: key.spec)
    }

    /// Encrypts with a symmetric key's current material version (and, for a key in an external
    /// key store, then with its external key: `request` says who asked, for the proxy).
    func seal(
        _ plaintext: some DataProtocol, under key: KMSKey, context: EncryptionContext, request: RequestContext
    ) async throws(KMSError) -> [UInt8] {
        if key.origin == .awsCloudHSM { return try await sealInHSM(Array(plaintext), under: key, context: context) }
        let material = try await currentMaterial(of: key, as: SymmetricKeyMaterial.self)
        let sealed = try material.encrypt(
            plaintext, context: context, account: key.account, keyID: key.id,
            materialVersion: key.currentMaterialVersion)
        if key.origin == .externalKeyStore { return try await wrapInXKS(sealed, under: key, context: context, request: request) }
        return sealed
    }

    /// Encryption context binds only to symmetric ciphertexts; AWS refuses it with other keys.
    static func refuseContext(_ context: EncryptionContext, _ key: KMSKey) throws(KMSError) {
        guard context.isEmpty else {
            throw KMSError.validation("EncryptionContext is not supported with asymmetric KMS keys (\(key.arn)).")
        }
    }

    // MARK: Enabling and disabling

    /// EnableKey and DisableKey: moves an `Enabled` or `Disabled` key to `state` (nothing to
    /// commit when it is there already); any other state is `KMSInvalidStateException`.
    func setEnabledState(_ event: KeyLifecycle.Event, keyID: String, _ context: RequestContext, action: KMSAction) async throws(KMSError) {
        try await updatingKey(keyID, context, action: action) { key throws(KMSError) in
            try await authorize(context, AccessRequest(action), key: key)
            try KeyLifecycle.check(action, on: key)
            let state = try KeyLifecycle.state(after: event, of: key)
            guard key.state != state else { return ([], ()) }
            var updated = key
            updated.state = state
            return ([.updateKey(updated)], ())
        }
    }
}
