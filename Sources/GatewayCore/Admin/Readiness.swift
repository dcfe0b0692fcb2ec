import Foundation

/// What `/readyz` checks: the store takes writes, every upstream has a target whose health checks
/// pass, and every JWKS URL has keys in force. Each failing check is one line of the 503 answer.
public struct Readiness: Sendable {
    let store: any GatewayStore
    let health: UpstreamHealth
    let remoteKeys: [RemoteKeySet]

    public init(store: any GatewayStore, health: UpstreamHealth, remoteKeys: [RemoteKeySet]) {
        self.store = store
        self.health = health
        self.remoteKeys = remoteKeys
    }

    /// Every failing check; empty when ready.
    public func problems() async -> [String] {
        var problems: [String] = []
        do {
            try await store.checkWritable(at: Date())
        } catch {
            problems.append("store: not writable: \(error)")
        }
        problems += health.problems()
        for keySet in remoteKeys where !keySet.hasKeys {
            problems.append("jwks \(keySet.url): no keys in force (never fetched, or older than jwks_max_stale)")
        }
        return problems
    }
}
