import Dispatch
import KMSCore

/// Key pair generation off Swift concurrency's cooperative pool: an RSA-4096 key takes about a
/// second of CPU (longer when unlucky), and the pool has only as many threads as cores, so a
/// few concurrent CreateKey calls would otherwise stall every other request.
enum KeyGeneration {
    private static let queue = DispatchQueue(label: "swiftkms.key-generation", qos: .userInitiated, attributes: .concurrent)

    /// Runs `work` on a Dispatch thread and resumes with its result.
    static func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(KMSError) -> T) async throws(KMSError) -> T {
        let result: Result<T, KMSError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(KMSError) in try work() }) }
        }
        return try result.get()
    }
}
