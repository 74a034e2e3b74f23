import Foundation
import KMSService

extension OperationHandler {
    struct GenerateMacRequest: Decodable {
        var message: Data
        var keyId: String
        var macAlgorithm: MacAlgorithm
        var grantTokens: [String]?
        var dryRun: Bool?
    }

    struct GenerateMacResponse: Encodable {
        var mac: Data
        var macAlgorithm: String
        var keyId: String
    }

    static let generateMac = OperationHandler { (r: GenerateMacRequest, service, context) throws(KMSError) in
        let out = try await service.generateMac(keyID: r.keyId, message: r.message, algorithm: r.macAlgorithm, dryRun: r.dryRun, context)
        return GenerateMacResponse(mac: Data(out.mac), macAlgorithm: r.macAlgorithm.rawValue, keyId: out.keyARN)
    }

    struct VerifyMacRequest: Decodable {
        var message: Data
        var keyId: String
        var macAlgorithm: MacAlgorithm
        var mac: Data
        var grantTokens: [String]?
        var dryRun: Bool?
    }

    struct VerifyMacResponse: Encodable {
        var keyId: String
        var macValid: Bool
        var macAlgorithm: String
    }

    static let verifyMac = OperationHandler { (r: VerifyMacRequest, service, context) throws(KMSError) in
        let arn = try await service.verifyMac(keyID: r.keyId, message: r.message, mac: r.mac, algorithm: r.macAlgorithm, dryRun: r.dryRun, context)
        return VerifyMacResponse(keyId: arn, macValid: true, macAlgorithm: r.macAlgorithm.rawValue)
    }
}
