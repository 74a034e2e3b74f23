import Foundation
import FuzzDriver
import KMSCore
@_spi(Fuzzing) import KMSProtocol

/// A request body through everything the request path does before the service: the strict
/// JSON checks, the parser, audit parameters, validation against the model and the typed
/// request, for the operation the first input byte picks. Every error must be AWS's, and its
/// response body JSON.
let operations = KMSAPI.fuzzedOperations

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    guard let first = bytes.first else { return 0 }
    let operation = operations[Int(first) % operations.count]
    let body = Data(bytes.dropFirst())
    do {
        try KMSAPI.decodeRequest(operation: operation, body: body)
    } catch {
        precondition(JSONValue.parse(bytes: KMSAPI.errorBody(error)) != nil, "an error body that is not JSON")
    }
    _ = JSONSyntax.violation(in: body)
    return 0
}

runFuzzer(fuzz)
