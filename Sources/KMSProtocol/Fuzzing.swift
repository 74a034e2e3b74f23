import Foundation
@_spi(Fuzzing) import KMSService

/// Entry points for the fuzz targets in `Fuzz/` (`@_spi(Fuzzing) import KMSProtocol`). Not API:
/// each runs the steps the request path takes on untrusted bytes, in its order, without the
/// service.
@_spi(Fuzzing)
extension KMSAPI {
    /// The names of the operations requests are decoded for.
    public static var fuzzedOperations: [String] { handlers.keys.sorted() }

    /// What `handle` does with a body before the service sees it: parse (with the strictness
    /// checks), audit parameters, validation against the model, the typed request. Throws
    /// AWS's error for a body it refuses.
    public static func decodeRequest(operation: String, body: Data) throws(KMSError) {
        guard let input = input(of: operation, body) else { throw WireCoding.unreadable(JSONValue.self) }
        _ = auditParameters(operation, input)
        _ = try validate(input, operation: operation)
        try handlers[operation]?.decode(input)
    }

    /// The error response written for an error (its body must always be JSON).
    public static func errorBody(_ error: KMSError) -> Data { errorResponse(error).body }

    /// A `GrantTokens` entry as authorization reads it.
    public static func parseGrantToken(_ token: String) throws(KMSError) -> (keyARN: String, grantID: String) {
        try FuzzingEntry.grantToken(token)
    }

    /// A `Marker` as the list operations read it.
    public static func parseMarker(_ marker: String) throws(KMSError) -> String? {
        try FuzzingEntry.marker(marker)
    }
}
