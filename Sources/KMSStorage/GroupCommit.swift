import Synchronization

/// The queue of group commit, shared by the stores: a commit waits for the transaction being
/// written, then goes with every commit that arrived meanwhile (at most `batchLimit`) in the
/// next one. The store's `write` makes a batch durable in one transaction and returns each
/// commit's own result; `commit` returns once its batch is written.
public final class GroupCommit: Sendable {
    private struct Waiting {
        var mutations: [Mutation]
        var done: CheckedContinuation<Result<Void, StoreError>, Never>
    }

    /// Commits waiting for the writer, and whether a writer task is running.
    private let queue = Mutex<(waiting: [Waiting], writing: Bool)>(([], false))
    private let batchLimit: Int

    public init(batchLimit: Int) {
        self.batchLimit = batchLimit
    }

    /// - Parameter write: writes a batch; the first commit to find no writer running starts
    ///   one with it, which writes batches until the queue is empty.
    public func commit(
        _ mutations: [Mutation], write: @escaping @Sendable ([[Mutation]]) async -> [Result<Void, StoreError>]
    ) async throws(StoreError) {
        let result = await withCheckedContinuation { continuation in
            let startWriter = queue.withLock { queue in
                queue.waiting.append(Waiting(mutations: mutations, done: continuation))
                defer { queue.writing = true }
                return !queue.writing
            }
            if startWriter { Task { await writeWaiting(write) } }
        }
        try result.get()
    }

    private func writeWaiting(_ write: @Sendable ([[Mutation]]) async -> [Result<Void, StoreError>]) async {
        while true {
            let batch = queue.withLock { queue in
                let batch = Array(queue.waiting.prefix(batchLimit))
                queue.waiting.removeFirst(batch.count)
                if batch.isEmpty { queue.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            StoreMetrics.groupCommitSize.record(batch.count)
            let results = await write(batch.map(\.mutations))
            for (commit, result) in zip(batch, results) { commit.done.resume(returning: result) }
        }
    }
}
