import Foundation
import KMSStorage

/// AWS managed keys: one symmetric key per service, account and region (alias
/// `alias/aws/SERVICE`), made by the service on first use. Customers can view them and their
/// policies, and use them only through the service; nobody can change, disable, rotate by
/// hand or delete them. They rotate every year. All of that comes from the key policy AWS
/// gives them (below): it allows the account's principals the cryptographic operations only
/// with `kms:ViaService` naming the service, and read-only operations directly; everything
/// else, PutKeyPolicy included, is refused by it.
extension KeyManagementService {
    static let awsManagedAliasPrefix = "alias/aws/"

    /// Whether `service` can name an AWS managed key (`s3`, `dynamodb`, `secretsmanager`).
    static func isValidManagedKeyService(_ service: String) -> Bool {
        (1...64).contains(service.utf8.count) && service.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// The AWS managed key of `service` in an account and region, made (enabled, yearly
    /// rotation, with a `CreateKey` service event) when there is none yet. Safe to race: of two
    /// processes making it at once, the alias lets one win and the other returns its key.
    public func awsManagedKey(service: String, account: String, region: String) async throws(KMSError) -> KMSKey {
        guard Self.isValidManagedKeyService(service) else {
            throw KMSError.validation("A service name is lowercase letters, digits and hyphens (such as s3).")
        }
        let aliasName = Self.awsManagedAliasPrefix + service
        func existing() async throws(KMSError) -> KMSKey? {
            guard let alias = try await store.alias(account: account, region: region, name: aliasName) else { return nil }
            return try await store.key(id: alias.targetKeyID, region: region)
        }
        if let key = try await existing() { return key }
        do {
            let now = clock.now()
            let key = KMSKey(
                id: UUID.randomLowercased(), account: account, region: region, creationDate: now,
                description: "Default key that protects my \(service) data when no other key is defined", usage: .encryptDecrypt,
                spec: .symmetricDefault, origin: .awsKMS, state: KeyLifecycle.initialState(origin: .awsKMS),
                policy: Self.awsManagedPolicy(service: service, account: account, region: region),
                automaticRotation: AutomaticRotation(
                    periodInDays: AutomaticRotation.defaultPeriodInDays,
                    nextDate: now + Double(AutomaticRotation.defaultPeriodInDays) * 86_400),
                keyManager: .aws)
            let wrapped = try await KeyGeneration.offloaded { [rootKey, key] () throws(KMSError) in
                try Self.newMaterial(for: key, rootKey: rootKey).wrapped
            }
            let alias = Alias(name: aliasName, account: account, region: region, targetKeyID: key.id, creationDate: now, lastUpdatedDate: now)
            try await store.commit(
                [
                    .insertKey(key), .insertAlias(alias),
                    .insertKeyMaterial(
                        KeyMaterialRecord(
                            keyID: key.id, region: region, version: 1, wrapped: wrapped, creationDate: now,
                            materialID: Self.newMaterialID())),
                    .appendAuditEvent(
                        AuditEvent.serviceEvent("CreateKey", key: key, chain: audit.chain, at: now, details: ["service": .string(service)])),
                ], ifExists: KMSError(.alreadyExists, "\(alias.arn) exists."))
            logger.info("AWS managed key created", metadata: ["keyId": "\(key.id)", "alias": "\(aliasName)", "region": "\(region)"])
            return key
        } catch  where error.code == .alreadyExists {
            // Another process made it first: its key is the one.
            guard let key = try await existing() else { throw KMSError.internalFailure() }
            return key
        }
    }

    /// The AWS managed key a request through a service names by its alias, made on first use:
    /// `alias/aws/SERVICE` in the caller's account, asked by that very service. Nil otherwise.
    func awsManagedKeyOnFirstUse(aliasName: String, _ context: RequestContext) async throws(KMSError) -> KMSKey? {
        guard aliasName.hasPrefix(Self.awsManagedAliasPrefix), let via = context.viaService,
            via == "\(aliasName.dropFirst(Self.awsManagedAliasPrefix.count)).\(context.region).amazonaws.com"
        else { return nil }
        return try await awsManagedKey(
            service: String(aliasName.dropFirst(Self.awsManagedAliasPrefix.count)), account: context.account,
            region: context.region)
    }

    /// The policy AWS gives its managed keys: use through the service by the account's
    /// principals, and direct read-only access for the account.
    static func awsManagedPolicy(service: String, account: String, region: String) -> String {
        """
        {
          "Version" : "2012-10-17",
          "Id" : "auto-\(service)-1",
          "Statement" : [ {
            "Sid" : "Allow access through \(service) for all principals in the account that are authorized to use \(service)",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "*"
            },
            "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
            "Resource" : "*",
            "Condition" : {
              "StringEquals" : {
                "kms:CallerAccount" : "\(account)",
                "kms:ViaService" : "\(service).\(region).amazonaws.com"
              }
            }
          }, {
            "Sid" : "Allow direct access to key metadata to the account",
            "Effect" : "Allow",
            "Principal" : {
              "AWS" : "arn:aws:iam::\(account):root"
            },
            "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
            "Resource" : "*"
          } ]
        }
        """
    }
}
