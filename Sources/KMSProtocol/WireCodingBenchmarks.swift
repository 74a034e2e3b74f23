import Foundation
import KMSService

/// The wire coding of Encrypt without the service, for the microbenchmarks in `Benchmarks/`
/// (`@_spi(Benchmarks) import KMSProtocol`). Not API: each entry calls the steps that
/// `KMSAPI.handle` takes for an Encrypt request, in its order.
@_spi(Benchmarks)
extension KMSAPI {
    /// The JSON work on an Encrypt body before the service sees it: parsed once, for the audit
    /// event's parameters, validation against the model, and the typed request.
    /// Returns the size of the decoded plaintext.
    public static func decodeEncryptRequest(_ body: Data) throws(KMSError) -> Int {
        guard let input = input(of: "Encrypt", body) else { throw WireCoding.unreadable(JSONValue.self) }
        _ = auditParameters("Encrypt", input)
        _ = try validate(input, operation: "Encrypt")
        return try WireCoding.decode(OperationHandler.EncryptRequest.self, from: input).plaintext.count
    }

    /// The body of an Encrypt response, as the request path encodes it.
    public static func encodeEncryptResponse(ciphertextBlob: Data, keyARN: String) throws(KMSError) -> Data {
        try WireCoding.encode(
            OperationHandler.EncryptResponse(
                ciphertextBlob: ciphertextBlob, keyId: keyARN,
                encryptionAlgorithm: EncryptionAlgorithm.symmetricDefault.rawValue))
    }
}
