import Foundation
import GRDB
import GatewayCore

/// Events, stores and raw database access for the store tests.
enum StoreFixture {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// An event `seconds` after ``start``.
    static func event(
        _ type: AuditEventType = .authInvalid,
        at seconds: TimeInterval = 0,
        client: String? = "192.0.2.1",
        subject: String? = nil,
        reason: String? = nil
    ) -> AuditEvent {
        AuditEvent(
            time: start.addingTimeInterval(seconds), type: type, requestID: "req-\(Int(seconds))", client: client,
            route: "/users", method: "GET", path: "/users/me", subject: subject, reason: reason, status: 401)
    }

    /// `count` events one second apart from ``start``.
    static func events(_ count: Int) -> [AuditEvent] {
        (0..<count).map { event(at: TimeInterval($0)) }
    }

    /// A store in a fresh temporary file, and a second connection to that file for raw SQL
    /// (tampering, counting) behind the store's back.
    static func withFileStore(_ body: (SQLiteStore, DatabaseQueue) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("gateway.sqlite").path
        let store = try SQLiteStore(path: path)
        try await body(store, try DatabaseQueue(path: path))
    }

    /// The number of rows in `audit_event`.
    static func auditRowCount(_ database: DatabaseQueue) throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_event") ?? 0 }
    }
}
