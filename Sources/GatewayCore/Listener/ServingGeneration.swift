import NIOCore
import Synchronization

/// What requests are served with: the runtime of the config in force, with the upstream pools
/// and token caches built for it. A reload replaces it whole.
final class ServingGeneration: Sendable {
    let runtime: GatewayRuntime
    let pools: UpstreamPools
    let tokenCaches: VerifiedTokenCaches
    /// Counts reloads: each generation's is one more than the one it replaced.
    let number: Int

    init(_ runtime: GatewayRuntime, number: Int, health: UpstreamHealth, group: any EventLoopGroup) {
        self.runtime = runtime
        self.number = number
        health.update(runtime.config.upstreams)
        self.pools = UpstreamPools(upstreams: runtime.config.upstreams, health: health, group: group)
        self.tokenCaches = VerifiedTokenCaches(capacity: runtime.config.jwt.tokenCacheEntries, group: group)
    }
}

/// The generation in force, which every connection checks at each request head: one atomic load
/// while nothing changed, so a connection opened before a reload serves its next request under
/// the new routes and policies (a request already under way finishes under the old ones), and
/// then closes, so that the client reconnects with the new certificate and settings.
final class ServingGenerations: Sendable {
    private let inForce: Mutex<ServingGeneration>
    private let latest: Atomic<Int>
    private let health: UpstreamHealth
    private let group: any EventLoopGroup

    init(_ runtime: GatewayRuntime, health: UpstreamHealth, group: any EventLoopGroup) {
        let first = ServingGeneration(runtime, number: 0, health: health, group: group)
        inForce = Mutex(first)
        latest = Atomic(first.number)
        self.health = health
        self.group = group
    }

    /// The generation in force.
    var current: ServingGeneration { inForce.withLock { $0 } }

    /// The generation in force when it is not `number`, else `nil` (without taking the lock).
    func replacing(_ number: Int) -> ServingGeneration? {
        latest.load(ordering: .acquiring) == number ? nil : current
    }

    /// Puts `runtime` in force and returns the generation it replaces.
    func replace(with runtime: GatewayRuntime) -> ServingGeneration {
        inForce.withLock { generation in
            let replaced = generation
            generation = ServingGeneration(runtime, number: replaced.number + 1, health: health, group: group)
            latest.store(generation.number, ordering: .releasing)
            return replaced
        }
    }
}
