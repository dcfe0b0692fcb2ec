import Foundation
import Synchronization

/// What `/readyz` checks: the store takes writes, every upstream has a target whose health checks
/// pass, and every JWKS URL has keys in force. Each failing check is one line of the 503 answer.
public struct Readiness: Sendable {
    let store: any GatewayStore
    let health: UpstreamHealth
    let remoteKeys: [RemoteKeySet]
    let storeDeadline: Duration
    private let storeProbe = StoreProbe()

    /// `storeDeadline`: how long the store's test write may take before the store counts as not
    /// ready (a stalled disk, a lock held elsewhere), so that `/readyz` answers in bounded time.
    public init(store: any GatewayStore, health: UpstreamHealth, remoteKeys: [RemoteKeySet], storeDeadline: Duration = .seconds(2)) {
        self.store = store
        self.health = health
        self.remoteKeys = remoteKeys
        self.storeDeadline = storeDeadline
    }

    /// Every failing check; empty when ready.
    public func problems() async -> [String] {
        var problems: [String] = []
        if let storeProblem = await storeProblem() { problems.append(storeProblem) }
        problems += health.problems()
        for keySet in remoteKeys where !keySet.hasKeys {
            problems.append("jwks \(keySet.url): no keys in force (never fetched, or older than jwks_max_stale)")
        }
        return problems
    }

    /// Why the store's test write failed or did not finish in time; `nil` when it passed.
    private func storeProblem() async -> String? {
        let write = storeProbe.write(to: store)
        let deadline = storeDeadline
        return await withCheckedContinuation { continuation in
            let answer = FirstAnswer(continuation)
            let timer = Task {
                try await Task.sleep(for: deadline)
                answer.resume("store: no answer to a test write within \(deadline)")
            }
            Task {
                answer.resume(await write.value)
                timer.cancel()
            }
        }
    }
}

/// The store's test write: at most one at a time, so that probes of a stalled store wait for the
/// write already queued instead of queueing more in front of the audit trail's.
private final class StoreProbe: Sendable {
    private let running = Mutex<Task<String?, Never>?>(nil)

    /// The write under way, or a new one.
    func write(to store: any GatewayStore) -> Task<String?, Never> {
        running.withLock { running in
            if let running { return running }
            let task = Task<String?, Never> {
                defer { self.running.withLock { $0 = nil } }
                do {
                    try await store.checkWritable(at: Date())
                    return nil
                } catch {
                    return "store: not writable: \(error)"
                }
            }
            running = task
            return task
        }
    }
}

/// A continuation resumed by whichever of two racing tasks answers first.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<String?, Never>?>

    init(_ continuation: CheckedContinuation<String?, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ problem: String?) {
        continuation.withLock { $0.take() }?.resume(returning: problem)
    }
}
