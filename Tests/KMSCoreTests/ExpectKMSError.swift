import KMSCore
import Testing

/// Expects `body` to throw the `KMSError` of `code`. A bare `#expect(throws: KMSError.self)`
/// passes for any error under typed throws, so every expected failure names its error.
func expectKMSError<R>(
    _ code: KMSError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    let error = #expect(throws: KMSError.self, comment, sourceLocation: sourceLocation, performing: body)
    #expect(error?.code == code, comment, sourceLocation: sourceLocation)
}
