import Foundation
import KMSStorage

extension KeyManagementService {
    /// The account's custom key stores in the region, oldest first, a page at a time; or the one
    /// named by ID or by name (`CustomKeyStoreNotFoundException` when there is none).
    public func describeCustomKeyStores(
        id: String?, name: String?, limit: Int?, marker: String?, _ context: RequestContext
    ) async throws(KMSError) -> (stores: [CustomKeyStore], nextMarker: String?) {
        try await authorizeAccountAction(context, AccessRequest(.describeCustomKeyStores))
        var stores = try await store.customKeyStores(account: context.account, region: context.region)
        if id != nil || name != nil {
            stores = stores.filter { (id == nil || $0.id == id) && (name == nil || $0.name == name) }
            guard !stores.isEmpty else {
                throw KMSError(
                    .customKeyStoreNotFound,
                    "No custom key store \(id.map { "'\($0)'" } ?? "named '\(name ?? "")'") exists in this account and region.")
            }
        }
        if let after = try Pagination.position(from: marker) {
            guard let index = stores.firstIndex(where: { $0.id == after }) else {
                throw KMSError(
                    .invalidMarker, "The request was rejected because the marker that specifies where pagination should next begin is not valid.")
            }
            stores = Array(stores[(index + 1)...])
        }
        let page = Pagination.page(stores, limit: limit ?? 1000, sortKey: \.id)
        return (page.items, page.nextMarker)
    }
}
