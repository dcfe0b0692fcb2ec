import Foundation
import GatewayCore
import Logging
import Testing

@Suite("Store retention")
struct StoreRetentionTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("prunes audit events older than the retention and expired revocations, keeping the chain verifiable")
    func prunes() async throws {
        let store = try SQLiteStore.inMemory()
        try await store.appendAudit(StoreFixture.events(10))
        let now = StoreFixture.start.addingTimeInterval(86_400 + 6)
        try await store.addRevocation(Revocation(kind: .tokenID("old"), revokedAt: StoreFixture.start, expiresAt: now - 1))
        try await store.addRevocation(Revocation(kind: .tokenID("new"), revokedAt: StoreFixture.start, expiresAt: now + 1))
        let retention = StoreRetention(store: store, auditRetention: .seconds(86_400), logger: logger, now: { now })
        await retention.prune()
        #expect(try await store.auditEvents(AuditQuery()).map(\.id) == [10, 9, 8, 7])
        #expect(try await store.revocations().map(\.kind) == [.tokenID("new")])
        #expect(try await store.verifyAuditChain() == .intact(events: 4))
    }
}
