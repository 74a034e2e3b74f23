import Foundation

/// Opaque `Marker` / `NextMarker` values: the base64 of the last item's sort key.
enum Pagination {
    static func marker(after lastKey: String) -> String {
        Data(lastKey.utf8).base64EncodedString()
    }

    /// The sort key a marker continues after; `InvalidMarkerException` when it isn't one of ours.
    static func position(from marker: String?) throws(KMSError) -> String? {
        guard let marker else { return nil }
        guard let data = Base64.decodeStrict(marker), let key = String(validating: data, as: UTF8.self), !key.isEmpty else {
            throw KMSError(
                .invalidMarker, "The request was rejected because the marker that specifies where pagination should next begin is not valid.")
        }
        return key
    }

    /// Splits a page fetched with one extra item into (items, nextMarker).
    static func page<T>(_ fetched: [T], limit: Int, sortKey: (T) -> String) -> (items: [T], nextMarker: String?) {
        guard fetched.count > limit else { return (fetched, nil) }
        let items = Array(fetched.prefix(limit))
        return (items, items.last.map { marker(after: sortKey($0)) })
    }
}
