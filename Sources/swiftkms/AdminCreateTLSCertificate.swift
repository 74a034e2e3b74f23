import ArgumentParser
import Crypto
import Foundation
import SwiftASN1
import X509

extension Admin {
    struct CreateTLSCertificate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-tls-certificate",
            abstract: "Make a TLS certificate for trying out `serve --tls-certificate`, signed by a CA made for it.",
            discussion: """
                Writes, in --out-dir (created, mode 0700, if absent): tls-ca.pem (the CA certificate: give it to clients, e.g.
                aws --ca-bundle or AWS_CA_BUNDLE), tls-certificate.pem (the server's certificate, for
                the given host names and IP addresses) and tls-key.pem (its P-256 private key, mode
                0600). The CA's private key is never written: the CA can sign nothing else. Refuses to
                overwrite. For production, use a certificate from your own CA.
                """)

        @Option(help: "A DNS name or IP address the server is reached at; repeatable.") var hostname: [String]
        @Option(help: "Directory to write the three files to.") var outDir = "."
        @Option(help: "Days the certificates are valid.") var days = 365

        func validate() throws {
            guard !hostname.isEmpty else { throw ValidationError("Give at least one --hostname.") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be from 1 to 3650.") }
        }

        func run() async throws {
            try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let files = ["tls-ca.pem", "tls-certificate.pem", "tls-key.pem"].map { outDir + "/" + $0 }
            for file in files where FileManager.default.fileExists(atPath: file) {
                throw CommandFailure("\(file) exists; remove it or choose another --out-dir.")
            }
            let notBefore = Date().addingTimeInterval(-300)
            let notAfter = notBefore.addingTimeInterval(Double(days) * 86_400)
            let caKey = P256.Signing.PrivateKey()
            let caPublic = Certificate.PublicKey(caKey.publicKey)
            let caName = try DistinguishedName {
                OrganizationName("SwiftKMS")
                CommonName("SwiftKMS test CA \(UUID().uuidString.prefix(8))")
            }
            let caKeyID = SubjectKeyIdentifier(hash: caPublic).keyIdentifier
            let ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: caPublic, notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(keyIdentifier: caKeyID)
                }, issuerPrivateKey: .init(caKey))
            let serverKey = P256.Signing.PrivateKey()
            let serverPublic = Certificate.PublicKey(serverKey.publicKey)
            let names = try hostname.map(Self.generalName)
            let server = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: serverPublic, notValidBefore: notBefore, notValidAfter: notAfter,
                issuer: caName, subject: try DistinguishedName { CommonName(hostname[0]) }, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: serverPublic)
                    AuthorityKeyIdentifier(keyIdentifier: caKeyID)
                }, issuerPrivateKey: .init(caKey))
            try Data((try ca.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: files[0]), options: .withoutOverwriting)
            try Data((try server.serializeAsPEM().pemString + "\n").utf8).write(to: URL(fileURLWithPath: files[1]), options: .withoutOverwriting)
            try DataDirectory.writeOwnerOnly(files[2], contents: serverKey.pemRepresentation + "\n")
            print(
                """
                wrote \(files[0]) (CA), \(files[1]) and \(files[2]) for \(hostname.joined(separator: ", ")), valid \(days) days.
                  swiftkms serve --tls-certificate \(files[1]) --tls-key \(files[2])
                  aws --ca-bundle \(files[0]) --endpoint-url https://\(hostname[0]):9600 kms list-keys
                """)
        }

        /// An IPv4 or IPv6 address as an IP address name, anything else as a DNS name.
        static func generalName(_ host: String) throws -> GeneralName {
            var v4 = in_addr()
            if inet_pton(AF_INET, host, &v4) == 1 { return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v4) { Array($0)[...] })) }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, host, &v6) == 1 { return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v6) { Array($0)[...] })) }
            guard !host.isEmpty, host.count <= 253, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw ValidationError("--hostname \(host.prefix(64)) is neither a DNS name nor an IP address.")
            }
            return .dnsName(host)
        }
    }
}
