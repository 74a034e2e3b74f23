import KMSStorage

extension KeyManagementService {
    /// How many keys there are of each state and key spec, for the metrics. One grouped count
    /// over the keys table; records nothing in the audit trail.
    public func keyCensus() async throws(KMSError) -> [KeyCensusEntry] {
        try await store.keyCensus()
    }
}
