import Foundation
import GRDB
import Testing

@testable import GatewayCore

@Suite("SQLite store: tamper-evident audit chain")
struct AuditChainTests {
    @Test("an intact chain verifies with its number of events")
    func intact() async throws {
        let store = try SQLiteStore.inMemory()
        #expect(try await store.verifyAuditChain() == .intact(events: 0))
        try await store.appendAudit(StoreFixture.events(3))
        try await store.appendAudit(StoreFixture.events(4))
        #expect(try await store.verifyAuditChain() == .intact(events: 7))
    }

    @Test(
        "an edited column is reported at its row",
        arguments: [
            "UPDATE audit_event SET reason = 'nothing to see' WHERE id = 3",
            "UPDATE audit_event SET status = 200 WHERE id = 3",
            "UPDATE audit_event SET status = x'0191' WHERE id = 3",
            "UPDATE audit_event SET client = NULL WHERE id = 3",
            "UPDATE audit_event SET time_ms = time_ms + 1 WHERE id = 3",
            "UPDATE audit_event SET prev_hash = (SELECT hash FROM audit_event WHERE id = 1) WHERE id = 3",
        ])
    func edited(sql: String) async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(5))
            try await raw.write { try $0.execute(sql: sql) }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 3, reason: .edited)))
        }
    }

    @Test("a deleted row in the middle is reported as missing")
    func deletedMiddle() async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(6))
            try await raw.write { try $0.execute(sql: "DELETE FROM audit_event WHERE id IN (3, 4)") }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 3, reason: .missingRows(3...4))))
        }
    }

    @Test("deleting the newest rows is noticed, even after more events are appended")
    func deletedTail() async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(5))
            try await raw.write { try $0.execute(sql: "DELETE FROM audit_event WHERE id >= 4") }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 4, reason: .missingRows(4...5))))
            try await store.appendAudit(StoreFixture.events(1))
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 4, reason: .missingRows(4...5))))
        }
    }

    @Test(
        "an edited row whose hash was recomputed breaks the link to the next row, or to the chain's head",
        arguments: [(2, 3), (4, 4)] as [(Int64, Int64)])
    func rehashedRow(edited: Int64, reported: Int64) async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(4))
            try await raw.write { db in
                try db.execute(sql: "UPDATE audit_event SET reason = 'nothing to see' WHERE id = ?", arguments: [edited])
                let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audit_event WHERE id = ?", arguments: [edited]))
                let hash = AuditRecord.hash(of: AuditRecord.Columns.hashed.map { row[$0.name] })
                try db.execute(sql: "UPDATE audit_event SET hash = ? WHERE id = ?", arguments: [hash, edited])
            }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: reported, reason: .brokenLink)))
        }
    }

    @Test("pruning leaves a checkpoint, so the rest of the chain still verifies")
    func pruneKeepsChainVerifiable() async throws {
        let store = try SQLiteStore.inMemory()
        try await store.appendAudit(StoreFixture.events(10))
        let pruned = try await store.pruneAudit(olderThan: StoreFixture.start.addingTimeInterval(4))
        #expect(pruned == 4)
        #expect(try await store.auditEvents(AuditQuery()).map(\.id).last == 5)
        #expect(try await store.verifyAuditChain() == .intact(events: 6))
        try await store.appendAudit(StoreFixture.events(2))
        #expect(try await store.verifyAuditChain() == .intact(events: 8))
    }

    @Test("pruning everything still verifies, and the chain carries on from the checkpoint")
    func pruneEverything() async throws {
        let store = try SQLiteStore.inMemory()
        try await store.appendAudit(StoreFixture.events(3))
        #expect(try await store.pruneAudit(olderThan: StoreFixture.start.addingTimeInterval(60)) == 3)
        #expect(try await store.verifyAuditChain() == .intact(events: 0))
        try await store.appendAudit(StoreFixture.events(1))
        #expect(try await store.auditEvents(AuditQuery()).map(\.id) == [4])
        #expect(try await store.verifyAuditChain() == .intact(events: 1))
    }

    @Test("pruning stops at the first event that is not old enough, even if later ones are")
    func prunePrefixOnly() async throws {
        let store = try SQLiteStore.inMemory()
        try await store.appendAudit([
            StoreFixture.event(at: 0), StoreFixture.event(at: 100), StoreFixture.event(at: 1), StoreFixture.event(at: 200),
        ])
        #expect(try await store.pruneAudit(olderThan: StoreFixture.start.addingTimeInterval(50)) == 1)
        #expect(try await store.verifyAuditChain() == .intact(events: 3))
        #expect(try await store.pruneAudit(olderThan: StoreFixture.start) == 0)
    }

    @Test("deleting the oldest rows without a checkpoint is detected")
    func deletedHeadWithoutCheckpoint() async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(5))
            try await raw.write { try $0.execute(sql: "DELETE FROM audit_event WHERE id <= 2") }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 1, reason: .missingRows(1...2))))
        }
    }

    @Test("deleting rows after a checkpoint, or the checkpoint itself, is detected")
    func deletedAfterCheckpoint() async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(6))
            _ = try await store.pruneAudit(olderThan: StoreFixture.start.addingTimeInterval(2))
            try await raw.write { try $0.execute(sql: "DELETE FROM audit_event WHERE id = 3") }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 3, reason: .missingRows(3...3))))
            try await raw.write { try $0.execute(sql: "DELETE FROM audit_chain") }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 1, reason: .missingRows(1...3))))
        }
    }

    @Test("a row inserted behind the store's back breaks the chain")
    func forgedRow() async throws {
        try await StoreFixture.withFileStore { store, raw in
            try await store.appendAudit(StoreFixture.events(2))
            try await raw.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO audit_event (id, time_ms, type, prev_hash, hash)
                        SELECT 3, time_ms, type, hash, hash FROM audit_event WHERE id = 2
                        """)
            }
            #expect(try await store.verifyAuditChain() == .broken(AuditChainBreak(rowID: 3, reason: .edited)))
        }
    }

    @Test("a break describes itself for the operator")
    func descriptions() {
        #expect(AuditChainBreak(rowID: 3, reason: .edited).description == "row 3 was edited: its content does not match its hash")
        #expect(AuditChainBreak(rowID: 3, reason: .missingRows(3...3)).description == "row 3 is missing: it was deleted")
        #expect(AuditChainBreak(rowID: 3, reason: .missingRows(3...5)).description == "rows 3–5 are missing: they were deleted")
    }
}
