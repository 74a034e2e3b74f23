/// Entry points for the fuzz targets in `Fuzz/` (`@_spi(Fuzzing) import KMSService`). Not API.
@_spi(Fuzzing)
public enum FuzzingEntry {
    /// A `GrantTokens` entry as authorization reads it.
    public static func grantToken(_ token: String) throws(KMSError) -> (keyARN: String, grantID: String) {
        try KeyManagementService.parseGrantToken(token)
    }

    /// A `Marker` as the list operations read it.
    public static func marker(_ marker: String) throws(KMSError) -> String? {
        try Pagination.position(from: marker)
    }
}
