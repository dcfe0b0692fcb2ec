import Foundation
import GatewayCore
import Testing

@Suite("SQLite store: audit events")
struct SQLiteStoreAuditTests {
    let store: SQLiteStore

    init() throws {
        store = try SQLiteStore.inMemory()
    }

    @Test("an appended event reads back with every field, to the millisecond")
    func roundTrip() async throws {
        let event = AuditEvent(
            time: StoreFixture.start.addingTimeInterval(0.25), type: .scopeDenied, requestID: "r-1", client: "2001:db8::1",
            route: "/admin", method: "DELETE", path: "/admin/users/7", subject: "alice", reason: "missing scope admin",
            status: 403, tokenFingerprint: "0123456789ab")
        try await store.appendAudit([event])
        #expect(try await store.auditEvents(AuditQuery()) == [StoredAuditEvent(id: 1, event: event)])
    }

    @Test("events come back newest first, with consecutive ids, up to the limit")
    func newestFirst() async throws {
        try await store.appendAudit(StoreFixture.events(3))
        try await store.appendAudit(StoreFixture.events(2))
        #expect(try await store.auditEvents(AuditQuery()).map(\.id) == [5, 4, 3, 2, 1])
        #expect(try await store.auditEvents(AuditQuery(limit: 2)).map(\.id) == [5, 4])
    }

    @Test("since keeps the events at or after the time")
    func since() async throws {
        try await store.appendAudit(StoreFixture.events(10))
        let events = try await store.auditEvents(AuditQuery(since: StoreFixture.start.addingTimeInterval(7)))
        #expect(events.map(\.id) == [10, 9, 8])
    }

    @Test("type, subject and client each filter, and combine")
    func filters() async throws {
        try await store.appendAudit([
            StoreFixture.event(.authInvalid, client: "192.0.2.1", subject: "alice"),
            StoreFixture.event(.rateLimited, client: "192.0.2.2", subject: "alice"),
            StoreFixture.event(.rateLimited, client: "192.0.2.1", subject: "bob"),
            StoreFixture.event(.badRequest, client: "192.0.2.3"),
        ])
        #expect(try await store.auditEvents(AuditQuery(type: .rateLimited)).map(\.id) == [3, 2])
        #expect(try await store.auditEvents(AuditQuery(subject: "alice")).map(\.id) == [2, 1])
        #expect(try await store.auditEvents(AuditQuery(client: "192.0.2.1")).map(\.id) == [3, 1])
        #expect(try await store.auditEvents(AuditQuery(type: .rateLimited, client: "192.0.2.1")).map(\.id) == [3])
        #expect(try await store.auditEvents(AuditQuery(type: .loginLocked)).isEmpty)
    }

    @Test("stats count by type and rank clients and subjects, from the given time on")
    func stats() async throws {
        try await store.appendAudit([
            StoreFixture.event(.authInvalid, at: 0, client: "192.0.2.9", subject: "mallory"),
            StoreFixture.event(.authInvalid, at: 10, client: "192.0.2.1", subject: "alice"),
            StoreFixture.event(.authInvalid, at: 11, client: "192.0.2.2"),
            StoreFixture.event(.rateLimited, at: 12, client: "192.0.2.2", subject: "bob"),
            StoreFixture.event(.rateLimited, at: 13, client: "192.0.2.2", subject: "bob"),
            StoreFixture.event(.configReloaded, at: 14, client: nil),
        ])
        let stats = try await store.auditStats(since: StoreFixture.start.addingTimeInterval(10))
        #expect(stats.countsByType == [.authInvalid: 2, .rateLimited: 2, .configReloaded: 1])
        #expect(stats.total == 5)
        #expect(stats.topClients == [AuditCount(value: "192.0.2.2", count: 3), AuditCount(value: "192.0.2.1", count: 1)])
        #expect(stats.topSubjects == [AuditCount(value: "bob", count: 2), AuditCount(value: "alice", count: 1)])
    }

    @Test("the top lists hold at most ten clients")
    func topLimit() async throws {
        try await store.appendAudit((0..<12).map { StoreFixture.event(client: "192.0.2.\($0)") })
        let stats = try await store.auditStats(since: StoreFixture.start)
        #expect(stats.topClients.count == AuditStats.topLimit)
    }

    @Test("filter values are bound as parameters, not spliced into SQL")
    func parameterised() async throws {
        try await store.appendAudit([StoreFixture.event(subject: "x' OR '1'='1")])
        #expect(try await store.auditEvents(AuditQuery(subject: "x' OR '1'='1")).count == 1)
        #expect(try await store.auditEvents(AuditQuery(subject: "' OR '1'='1")).isEmpty)
    }
}
