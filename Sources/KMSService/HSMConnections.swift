import CPKCS11
import Foundation
import KMSHSM
import KMSStorage
import Synchronization

/// This process's sessions on the HSM tokens of CloudHSM key stores: one session pool per
/// store, opened when a request first needs it (on any node, once the store's state in the
/// database says CONNECTED), and replaced when the store's cluster or password changes.
/// Token objects' handles are kept per pool: PKCS#11 gives an object one handle for every
/// session of an application.
final class HSMConnections: Sendable {
    final class Connection: Sendable {
        let pool: PKCS11SessionPool
        /// What the pool was opened with: the store's cluster and sealed password.
        let identity: [UInt8]
        private let handles = Mutex<[String: CK_OBJECT_HANDLE]>([:])

        init(pool: PKCS11SessionPool, identity: [UInt8]) {
            self.pool = pool
            self.identity = identity
        }

        /// The handle of the token key labelled `label`, looked up once.
        func key(_ label: String, in session: PKCS11Session) throws(PKCS11Error) -> CK_OBJECT_HANDLE? {
            if let handle = handles.withLock({ $0[label] }) { return handle }
            guard let handle = try session.findKey(label: label) else { return nil }
            handles.withLock { $0[label] = handle }
            return handle
        }

        func forget(_ label: String) { _ = handles.withLock { $0.removeValue(forKey: label) } }
    }

    private let connections = Mutex<[String: Connection]>([:])

    static func identity(of store: CustomKeyStore) -> [UInt8] {
        Array((store.cloudHSMClusterID ?? "").utf8) + [0] + store.sealedPassword
    }

    /// The store's open connection, if it was opened with the store as it is now.
    func connection(for store: CustomKeyStore) -> Connection? {
        let identity = Self.identity(of: store)
        return connections.withLock { $0[store.id] }.flatMap { $0.identity == identity ? $0 : nil }
    }

    /// The store's open connection, whatever it was opened with.
    func connection(forID storeID: String?) -> Connection? {
        storeID.flatMap { id in connections.withLock { $0[id] } }
    }

    func register(_ connection: Connection, for storeID: String) {
        connections.withLock { $0[storeID] = connection }
    }

    /// Drops the store's pool: its idle sessions close now, the busy ones when they come back.
    func close(storeID: String) {
        _ = connections.withLock { $0.removeValue(forKey: storeID) }
    }
}
