import Foundation
import GRDB
import GatewayCore
import Testing

@Suite("SQLite store: revocations, JWKS and the file")
struct SQLiteStoreStateTests {
    let now = StoreFixture.start

    @Test("revocations round-trip, a later one replacing the earlier for the same subject")
    func revocations() async throws {
        let store = try SQLiteStore.inMemory()
        let token = Revocation(kind: .tokenID("jti-1"), revokedAt: now, expiresAt: nil)
        let first = Revocation(kind: .subject("alice"), revokedAt: now, expiresAt: now.addingTimeInterval(60))
        let second = Revocation(kind: .subject("alice"), revokedAt: now.addingTimeInterval(5), expiresAt: now.addingTimeInterval(65))
        try await store.addRevocation(token)
        try await store.addRevocation(first)
        try await store.addRevocation(second)
        #expect(try await store.revocations() == [token, second])
    }

    @Test("pruning removes revocations that expired before the time, and keeps those without expiry")
    func pruneRevocations() async throws {
        let store = try SQLiteStore.inMemory()
        let expired = Revocation(kind: .tokenID("old"), revokedAt: now, expiresAt: now.addingTimeInterval(10))
        let current = Revocation(kind: .tokenID("new"), revokedAt: now, expiresAt: now.addingTimeInterval(100))
        let forever = Revocation(kind: .subject("mallory"), revokedAt: now, expiresAt: nil)
        for revocation in [expired, current, forever] { try await store.addRevocation(revocation) }
        #expect(try await store.pruneRevocations(expiredBefore: now.addingTimeInterval(50)) == 1)
        #expect(try await store.revocations() == [current, forever])
    }

    @Test("the last good JWKS of each source is kept and replaced")
    func jwks() async throws {
        let store = try SQLiteStore.inMemory()
        #expect(try await store.lastGoodJWKS(source: "https://idp/jwks") == nil)
        try await store.saveJWKS(source: "https://idp/jwks", document: Data("{\"keys\":[]}".utf8), fetchedAt: now)
        try await store.saveJWKS(source: "https://idp/jwks", document: Data("{\"keys\":[1]}".utf8), fetchedAt: now.addingTimeInterval(1))
        try await store.saveJWKS(source: "https://other/jwks", document: Data("{}".utf8), fetchedAt: now)
        let saved = try #require(try await store.lastGoodJWKS(source: "https://idp/jwks"))
        #expect(saved.document == Data("{\"keys\":[1]}".utf8))
        #expect(saved.fetchedAt == now.addingTimeInterval(1))
    }

    @Test("each store has its own random install key, the same every time the file is opened")
    func installKey() async throws {
        let other = try await SQLiteStore.inMemory().installKey()
        try await StoreFixture.withFileStore { store, database in
            let key = try await store.installKey()
            #expect(key.count == 32)
            #expect(key != other)
            let reopened = try await SQLiteStore(path: database.path).installKey()
            #expect(reopened == key)
        }
    }

    @Test("the database file is created 0600, in new directories 0700")
    func fileModes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("state/nested/gateway.sqlite").path
        _ = try SQLiteStore(path: path)
        let file = try FileManager.default.attributesOfItem(atPath: path)
        let directory = try FileManager.default.attributesOfItem(atPath: root.appendingPathComponent("state/nested").path)
        #expect((file[.posixPermissions] as? Int) == 0o600)
        #expect((directory[.posixPermissions] as? Int) == 0o700)
    }

    @Test("two stores on one file, like the CLI beside a running gateway, append to one chain")
    func sharedFile() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("gateway.sqlite").path
        let gateway = try SQLiteStore(path: path)
        let command = try SQLiteStore(path: path)
        try await gateway.appendAudit(StoreFixture.events(2))
        try await command.appendAudit([StoreFixture.event(.tokenRevoked)])
        try await gateway.appendAudit(StoreFixture.events(2))
        #expect(try await command.auditEvents(AuditQuery()).map(\.id) == [5, 4, 3, 2, 1])
        #expect(try await gateway.verifyAuditChain() == .intact(events: 5))
    }
}

@Suite("SQLite store: rate limit counters")
struct SQLiteStoreRateLimitTests {
    let now: Int64 = 1_800_000_000_000_000_000

    @Test("counters are replaced, read back while short of their quota, and pruned once full again")
    func counters() async throws {
        let store = try SQLiteStore.inMemory()
        let a = RateLimitCounter(policy: "default|3600|ip", key: "ip:192.0.2.1", tat: now + 10)
        let b = RateLimitCounter(policy: "default|3600|ip", key: "ip:192.0.2.2", tat: now + 20)
        _ = try await store.saveRateLimitCounters([a, b], resetKeys: [], now: now)
        let newerA = RateLimitCounter(policy: a.policy, key: a.key, tat: now + 30)
        _ = try await store.saveRateLimitCounters([newerA], resetKeys: [], now: now)
        #expect(try await store.rateLimitCounters(now: now, key: nil).sorted { $0.key < $1.key } == [newerA, b])
        #expect(try await store.rateLimitCounters(now: now, key: "ip:192.0.2.2") == [b])
        _ = try await store.saveRateLimitCounters([], resetKeys: [], now: now + 25)
        #expect(try await store.rateLimitCounters(now: 0, key: nil) == [newerA])
    }

    @Test("a reset deletes the key's counters and is recorded for running gateways")
    func reset() async throws {
        let store = try SQLiteStore.inMemory()
        let counter = RateLimitCounter(policy: "default|60|ip", key: "ip:192.0.2.1", tat: now + 10)
        _ = try await store.saveRateLimitCounters([counter], resetKeys: [], now: now)
        #expect(try await store.resetRateLimits(key: "ip:192.0.2.1", at: Date()) == 1)
        #expect(try await store.rateLimitCounters(now: now, key: nil).isEmpty)
        let resets = try await store.rateLimitResets(after: 0)
        #expect(resets.map(\.key) == ["ip:192.0.2.1"])
        #expect(try await store.rateLimitResets(after: resets[0].id).isEmpty)
        _ = try await store.saveRateLimitCounters([counter], resetKeys: ["ip:192.0.2.1"], now: now)
        #expect(try await store.rateLimitCounters(now: now, key: nil) == [counter], "the reset keys go first, then the writes")
    }
}
