import Foundation
import Logging
import PostgresNIO
import PostgresSupport
import PostgresTestSupport
import Synchronization
import Testing

@testable import GatewayCore

/// The PostgreSQL store against the real server `scripts/with-postgres` runs, over TLS checked
/// with `sslmode=verify-full`: several nodes on one database.
@Suite("PostgreSQL store", .timeLimit(.minutes(3)))
struct PostgresStoreTests {
    static let logger = Logger(label: "test.postgres")

    /// A store of node `node` on a fresh database (or on `url`), closed after `body`.
    static func withStores<T>(
        nodes: [String], url: PostgresURL? = nil, _ body: ([PostgresStore], PostgresURL) async throws -> T
    ) async throws -> T {
        let database = if let url { url } else { try await TestPostgres.makeDatabase() }
        let url = database
        var stores: [PostgresStore] = []
        for node in nodes {
            stores.append(
                try await PostgresStore.open(
                    PostgresStoreConfig(url: url, passwordFile: try TestPostgres.passwordFile()), nodeName: node, logger: logger))
        }
        do {
            let result = try await body(stores, url)
            for store in stores { await store.close() }
            return result
        } catch {
            for store in stores { await store.close() }
            throw error
        }
    }

    static func event(_ type: AuditEventType, client: String, at seconds: Double = 0) -> AuditEvent {
        AuditEvent(time: Date(timeIntervalSince1970: 1_900_000_000 + seconds), type: type, client: client, status: 401)
    }

    @Test("each node appends to a chain of its own in one table; verify checks every chain and names the node an edit broke")
    func auditPerNode() async throws {
        try await Self.withStores(nodes: ["a", "b"]) { stores, url in
            try await stores[0].appendAudit([Self.event(.authInvalid, client: "192.0.2.1"), Self.event(.authMissing, client: "192.0.2.1")])
            try await stores[1].appendAudit([Self.event(.authExpired, client: "192.0.2.2")])
            try await stores[0].appendAudit([Self.event(.rateLimited, client: "192.0.2.3")])
            #expect(try await stores[1].verifyAuditChain() == .intact(events: 4))

            let events = try await stores[1].auditEvents(AuditQuery())
            #expect(events.map(\.node) == ["a", "b", "a", "a"])
            #expect(events.map(\.event.type) == [.rateLimited, .authExpired, .authMissing, .authInvalid])
            let stats = try await stores[0].auditStats(since: .distantPast)
            #expect(stats.total == 4)
            #expect(stats.topClients.first == AuditCount(value: "192.0.2.1", count: 2))
            #expect(try await stores[0].auditEvents(AuditQuery(client: "192.0.2.2")).map(\.node) == ["b"])

            // Someone with database access edits node b's row: its chain, and only it, breaks.
            try await Self.execute("UPDATE audit_event SET client = '203.0.113.9' WHERE node = 'b'", on: url)
            #expect(try await stores[0].verifyAuditChain() == .broken(AuditChainBreak(rowID: 1, reason: .edited, node: "b")))
        }
    }

    @Test("a retried append skips the events an attempt whose answer was lost did commit, and writes those one that failed did not")
    func appendRetries() async throws {
        try await Self.withStores(nodes: ["a"]) { stores, url in
            let store = stores[0]
            let events = (0..<5).map { Self.event(.authInvalid, client: "192.0.2.\($0)", at: Double($0)) }
            try await store.appendAudit(Array(events[0..<3]))
            // As after a call that committed but whose answer never came: the recorder retries
            // those events at the head of a longer batch.
            let (seq, hash) = try #require(try await Self.lastRow(of: "a", on: url))
            store.unconfirmedAppends.withLock {
                $0 = UnconfirmedAppends(events: Array(events[0..<3]), marks: [.init(count: 3, seq: seq, hash: hash)])
            }
            try await store.appendAudit(Array(events[0..<4]))
            #expect(try await store.verifyAuditChain() == .intact(events: 4))
            #expect(try await store.auditEvents(AuditQuery()).map(\.event.client) == ["192.0.2.3", "192.0.2.2", "192.0.2.1", "192.0.2.0"])

            // As after an attempt that never committed: its mark names a row that is not there.
            store.unconfirmedAppends.withLock {
                $0 = UnconfirmedAppends(events: [events[4]], marks: [.init(count: 1, seq: seq + 2, hash: "not-a-row")])
            }
            try await store.appendAudit([events[4]])
            #expect(try await store.verifyAuditChain() == .intact(events: 5))
            #expect(store.unconfirmedAppends.withLock { $0.marks.isEmpty })
        }
    }

    @Test("pruning keeps every node's chain verifiable from its new checkpoint")
    func pruneKeepsChains() async throws {
        try await Self.withStores(nodes: ["a", "b"]) { stores, _ in
            try await stores[0].appendAudit((0..<3).map { Self.event(.authInvalid, client: "c", at: Double($0)) })
            try await stores[1].appendAudit((0..<3).map { Self.event(.authInvalid, client: "c", at: Double($0) + 0.5) })
            let cutoff = Date(timeIntervalSince1970: 1_900_000_001.2)
            // a's rows at 0 and 1 s go, and b's at 0.5 s.
            #expect(try await stores[0].pruneAudit(olderThan: cutoff) == 3)
            #expect(try await stores[0].verifyAuditChain() == .intact(events: 3))
            try await stores[1].appendAudit([Self.event(.authInvalid, client: "c", at: 10)])
            #expect(try await stores[1].verifyAuditChain() == .intact(events: 4))
            #expect(try await stores[1].auditEvents(AuditQuery()).map(\.node) == ["b", "b", "b", "a"])
        }
    }

    @Test("revocations, the last good JWKS, resets and the install key are one set for every node")
    func sharedState() async throws {
        try await Self.withStores(nodes: ["a", "b"]) { stores, _ in
            let now = Date(timeIntervalSince1970: 1_900_000_000)
            try await stores[0].addRevocation(Revocation(kind: .subject("alice"), revokedAt: now, expiresAt: now.addingTimeInterval(60)))
            try await stores[0].addRevocation(Revocation(kind: .tokenID("t1"), revokedAt: now, expiresAt: nil))
            #expect(try await stores[1].revocations().count == 2)
            #expect(try await stores[1].pruneRevocations(expiredBefore: now.addingTimeInterval(120)) == 1)
            #expect(try await stores[0].revocations().map(\.kind) == [.tokenID("t1")])

            try await stores[1].saveJWKS(source: "https://idp/jwks", document: Data("{\"keys\":[]}".utf8), fetchedAt: now)
            #expect(try await stores[0].lastGoodJWKS(source: "https://idp/jwks")?.document == Data("{\"keys\":[]}".utf8))

            #expect(try await stores[0].installKey() == stores[1].installKey())
            #expect(try await stores[0].installKey().count == 32)

            _ = try await stores[0].resetRateLimits(key: "ip:192.0.2.1", at: now)
            #expect(try await stores[1].rateLimitResets(after: 0).map(\.key) == ["ip:192.0.2.1"])
            try await stores[1].checkWritable(at: now)
        }
    }

    @Test("limit counters merge: each node's spent share adds to the fleet's counter, and each takes the total back")
    func rateLimitMerge() async throws {
        try await Self.withStores(nodes: ["a", "b"]) { stores, _ in
            let second: Int64 = 1_000_000_000
            let now = Int64(Date().timeIntervalSince1970) * second
            // Node a admitted 3 requests of 1 s emission each, node b 2: the fleet spent 5 s.
            _ = try await stores[0].saveRateLimitCounters(
                [RateLimitCounter(policy: "p", key: "k", tat: now + 3 * second, spent: 3 * second)], resetKeys: [], now: now)
            let shared = try await stores[1].saveRateLimitCounters(
                [RateLimitCounter(policy: "p", key: "k", tat: now + 2 * second, spent: 2 * second)], resetKeys: [], now: now)
            #expect(shared == [RateLimitCounter(policy: "p", key: "k", tat: now + 5 * second)])
            #expect(try await stores[0].rateLimitCounters(now: now, key: "k").map(\.tat) == [now + 5 * second])
        }
    }

    @Test("a server certificate another CA signed is refused with verify-full; require encrypts without checking it")
    func tlsModes() async throws {
        var url = try TestPostgres.serverURL()
        url.sslRootCert = try TestPostgres.wrongCA()
        let refused = PostgresStoreConfig(
            url: url, passwordFile: try TestPostgres.passwordFile(), connectTimeout: .seconds(1), statementTimeout: .seconds(1))
        await #expect(throws: (any Error).self) {
            let store = try await PostgresStore.open(refused, nodeName: "a", logger: Self.logger)
            await store.close()
        }
        var required = try TestPostgres.serverURL()
        required.sslMode = .require
        required.sslRootCert = nil
        try await Self.withStores(nodes: ["a"], url: required) { stores, _ in
            try await stores[0].checkWritable(at: Date())
        }
    }

    @Test("a URL with a password in it is refused, and so is an sslmode the gateway does not know")
    func urlChecks() throws {
        #expect(throws: PostgresURLError.self) { try PostgresURL(parsing: "postgres://gw:secret@db.internal/gateway") }
        #expect(throws: PostgresURLError.self) { try PostgresURL(parsing: "postgres://gw@db.internal/gateway?sslmode=prefer") }
        let url = try PostgresURL(parsing: "postgresql://gw@db.internal:6432/gateway")
        #expect(url.sslMode == .verifyFull)
        #expect(url.port == 6432)
        #expect(url.description == "postgres://gw@db.internal:6432/gateway?sslmode=verify-full")
    }

    /// The seq and hash of the newest audit row of `node`.
    static func lastRow(of node: String, on url: PostgresURL) async throws -> (Int64, String)? {
        let settings = PostgresConnectionSettings(url: url, password: try TestPostgres.password(), applicationName: "gateway-tests")
        let client = PostgresClient(configuration: try settings.clientConfiguration())
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            for try await row in try await client.query(
                "SELECT seq, hash FROM audit_event WHERE node = \(node) ORDER BY seq DESC LIMIT 1"
            ).decode((Int64, String).self) {
                return row
            }
            return nil
        }
    }

    /// Runs one SQL statement on `url`'s database, as the test role.
    static func execute(_ sql: String, on url: PostgresURL) async throws {
        let settings = PostgresConnectionSettings(url: url, password: try TestPostgres.password(), applicationName: "gateway-tests")
        let client = PostgresClient(configuration: try settings.clientConfiguration())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }
}
