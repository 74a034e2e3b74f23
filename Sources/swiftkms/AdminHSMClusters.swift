import ArgumentParser
import Crypto
import Foundation
import KMSHSM
import KMSStorage
import SwiftASN1
import X509

extension Admin {
    /// What stands for an AWS CloudHSM cluster here: a PKCS#11 token, registered once, which
    /// CreateCustomKeyStore then names by the cluster ID printed.
    struct RegisterHSMCluster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-hsm-cluster",
            abstract:
                "Register a PKCS#11 token as a CloudHSM cluster for CloudHSM key stores; prints its cluster ID and writes its trust anchor certificate."
        )
        @OptionGroup var data: DataDirectoryOptions
        @Option(help: "The PKCS#11 module (shared library) of the HSM, the same path on every node.") var module: String
        @Option(help: "The label of the token in that module.") var tokenLabel: String
        @Option(help: "Where to write the trust anchor certificate (PEM) to give CreateCustomKeyStore.")
        var trustAnchorOut = "trust-anchor.pem"

        func run() async throws {
            guard !FileManager.default.fileExists(atPath: trustAnchorOut) else {
                throw CommandFailure("\(trustAnchorOut) exists; remove it or choose another --trust-anchor-out.")
            }
            do {
                _ = try PKCS11Module.load(path: module).slot(tokenLabel: tokenLabel)
            } catch {
                throw CommandFailure("no token labelled '\(tokenLabel)' in \(module): \(error)")
            }
            let directory = try await DataDirectory(options: data, logger: Admin.quietLogger)
            let id = HSMCluster.newID()
            let anchor = try Self.trustAnchor(clusterID: id, tokenLabel: tokenLabel)
            let cluster = HSMCluster(id: id, modulePath: module, tokenLabel: tokenLabel, trustAnchorCertificate: anchor, creationDate: Date())
            do {
                try await directory.store.commit([.insertHSMCluster(cluster)])
            } catch .alreadyExists {
                throw CommandFailure("token '\(tokenLabel)' of \(module) is registered already (swiftkms admin list-hsm-clusters).")
            }
            try Data(anchor.utf8).write(to: URL(fileURLWithPath: trustAnchorOut), options: .withoutOverwriting)
            try Admin.printJSON(["CloudHsmClusterId": id, "TrustAnchorCertificateFile": trustAnchorOut, "TokenLabel": tokenLabel, "Module": module])
        }

        /// A self-signed certificate naming the cluster and its token: the identity a key store
        /// presents for it, as AWS's cluster certificate is. Its private key is discarded.
        static func trustAnchor(clusterID: String, tokenLabel: String) throws -> String {
            let key = P256.Signing.PrivateKey()
            let publicKey = Certificate.PublicKey(key.publicKey)
            let name = try DistinguishedName {
                OrganizationName("SwiftKMS")
                OrganizationalUnitName(String(tokenLabel.prefix(64)))
                CommonName(clusterID)
            }
            let notBefore = Date().addingTimeInterval(-300)
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: notBefore,
                notValidAfter: notBefore.addingTimeInterval(3650 * 86_400), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                }, issuerPrivateKey: .init(key))
            return try certificate.serializeAsPEM().pemString + "\n"
        }
    }

    struct ListHSMClusters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-hsm-clusters", abstract: "List the PKCS#11 tokens registered as CloudHSM clusters.")
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let directory = try await DataDirectory(options: data, logger: Admin.quietLogger)
            let clusters = try await directory.store.hsmClusters()
            try Admin.printJSON(clusters.map { ["CloudHsmClusterId": $0.id, "TokenLabel": $0.tokenLabel, "Module": $0.modulePath] })
        }
    }
}
