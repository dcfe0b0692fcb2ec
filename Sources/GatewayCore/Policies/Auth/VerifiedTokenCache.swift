import Crypto
import Foundation
import NIOCore

/// Tokens whose signature and claims were already checked, so a public-key signature is verified
/// once per token rather than once per request.
///
/// One cache per event loop, used only on that loop: no lock. Keyed by the token's SHA-256, never the
/// token itself; an entry lasts until the token's `exp` (plus leeway) and at most ``maximumAge``, so
/// a signing key the identity provider withdraws stops vouching for cached tokens soon. Revocation
/// and the route's scopes and roles are still checked on every request. Bounded: the oldest entry
/// goes first.
final class VerifiedTokenCache {
    static let maximumAge: TimeInterval = 300

    private struct Entry {
        let identity: VerifiedIdentity
        let cachedAt: Date
    }

    private let capacity: Int
    private var entries: [SHA256Digest: Entry] = [:]
    /// Insertion order, for eviction; a ring over `capacity` slots.
    private var order: [SHA256Digest] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(min(capacity, 1024))
    }

    var count: Int { entries.count }

    /// The identity of an already verified token, unless it has expired since.
    func identity(for token: Substring, now: Date, leeway: TimeInterval) -> VerifiedIdentity? {
        guard capacity > 0 else { return nil }
        let key = SHA256.hash(data: Array(token.utf8))
        guard let entry = entries[key] else { return nil }
        guard entry.identity.expiresAt.timeIntervalSince(now) > -leeway, now.timeIntervalSince(entry.cachedAt) < Self.maximumAge
        else {
            entries[key] = nil
            return nil
        }
        return entry.identity
    }

    func insert(_ identity: VerifiedIdentity, for token: Substring, now: Date) {
        guard capacity > 0 else { return }
        let key = SHA256.hash(data: Array(token.utf8))
        guard entries.updateValue(Entry(identity: identity, cachedAt: now), forKey: key) == nil else { return }
        if order.count < capacity {
            order.append(key)
        } else {
            entries[order[next]] = nil
            order[next] = key
            next = (next + 1) % capacity
        }
    }
}

/// One ``VerifiedTokenCache`` per event loop of the group, built once at start.
final class VerifiedTokenCaches: @unchecked Sendable {
    // Safe: the dictionary is immutable after init, and each cache is only touched on its own loop.
    private let byLoop: [ObjectIdentifier: VerifiedTokenCache]

    init(capacity: Int, group: any EventLoopGroup) {
        var byLoop: [ObjectIdentifier: VerifiedTokenCache] = [:]
        for loop in group.makeIterator() { byLoop[ObjectIdentifier(loop)] = VerifiedTokenCache(capacity: capacity) }
        self.byLoop = byLoop
    }

    /// The cache owned by `loop`; use it only on `loop`.
    func cache(on loop: any EventLoop) -> VerifiedTokenCache? { byLoop[ObjectIdentifier(loop)] }
}
