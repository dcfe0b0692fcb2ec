import Foundation
import GRDB
import GatewayCore
import Testing

/// `gateway audit …` and `gateway token revoke` on a store file written beforehand.
@Suite("Audit and token commands", .serialized)
struct AuditCommandTests {
    /// A config whose store is in a fresh directory, the store's path, and events in it: ids 1…5,
    /// ten minutes apart and the last one ten minutes before the store is written, when `populated`
    /// (so that `--since` filters hold however long a busy machine takes to run the commands).
    func withStore(populated: Bool = true, _ body: (_ config: String, _ storePath: String) async throws -> Void) async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(in: directory, upstreamPort: 8081)
        let storePath = directory.appendingPathComponent("gateway.sqlite").path
        if populated {
            try await SQLiteStore(path: storePath).appendAudit(Self.events(before: Date()))
        }
        try await body(config, storePath)
    }

    static func events(before now: Date) -> [AuditEvent] {
        [
            event(.authInvalid, minutesAgo: 50, client: "192.0.2.1", subject: nil, reason: "signature", now: now),
            event(.authExpired, minutesAgo: 40, client: "192.0.2.1", subject: "alice", reason: "expired", now: now),
            event(.rateLimited, minutesAgo: 30, client: "192.0.2.2", subject: "bob", reason: nil, now: now),
            event(.rateLimited, minutesAgo: 20, client: "192.0.2.2", subject: "bob", reason: nil, now: now),
            event(.badRequest, minutesAgo: 10, client: "192.0.2.3", subject: nil, reason: "path rejected", now: now),
        ]
    }

    static func event(
        _ type: AuditEventType, minutesAgo: Double, client: String, subject: String?, reason: String?, now: Date
    ) -> AuditEvent {
        AuditEvent(
            time: now.addingTimeInterval(-60 * minutesAgo), type: type, requestID: "req-\(Int(minutesAgo))", client: client,
            route: "/users", method: "GET", path: "/users/me", subject: subject, reason: reason, status: 401)
    }

    func gateway(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runGateway(arguments)
    }

    /// The ids in `--json` output, in order.
    func ids(_ output: String) throws -> [Int] {
        try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object?["id"] as? Int)
        }
    }

    @Test("query lists every event newest first as an aligned table")
    func queryTable() async throws {
        try await withStore { config, _ in
            let result = try await gateway(["audit", "query", "--config", config])
            #expect(result.status == 0, "\(result.output)")
            let lines = result.output.split(separator: "\n")
            #expect(lines.count == 6)
            #expect(lines[0].hasPrefix("ID  TIME"))
            #expect(lines[1].hasPrefix("5   ") && lines[1].contains("bad_request") && lines[1].contains("GET /users/me"))
            let typeColumn = try #require(lines[0].range(of: "TYPE")).lowerBound.utf16Offset(in: lines[0])
            #expect(
                lines.dropFirst().allSatisfy { line in
                    let start = line.index(line.startIndex, offsetBy: typeColumn)
                    return line[start...].first?.isLetter == true
                })
        }
    }

    @Test("query filters by type, subject, client, since and limit, and prints JSON lines")
    func queryFilters() async throws {
        try await withStore { config, _ in
            let query = ["audit", "query", "--config", config, "--json"]
            let cases: [(filter: [String], ids: [Int])] = [
                (["--type", "rate_limited"], [4, 3]),
                (["--subject", "alice"], [2]),
                (["--client", "192.0.2.1"], [2, 1]),
                (["--since", "25m"], [5, 4]),
                (["--limit", "2"], [5, 4]),
            ]
            for (filter, expected) in cases {
                let result = try await gateway(query + filter)
                #expect(try ids(result.output) == expected, "\(filter)")
            }
            let line = try await gateway(query + ["--subject", "alice"]).output
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["type"] as? String == "auth_expired")
            #expect(object["client"] as? String == "192.0.2.1")
            #expect(object["reason"] as? String == "expired")
            #expect(object["status"] as? Int == 401)
        }
    }

    @Test("query refuses an unknown type and a malformed duration")
    func queryBadArguments() async throws {
        try await withStore { config, _ in
            let badType = try await gateway(["audit", "query", "--config", config, "--type", "auth_bogus"])
            #expect(badType.status != 0)
            #expect(badType.output.contains("auth_invalid"))
            let badSince = try await gateway(["audit", "query", "--config", config, "--since", "1 hour"])
            #expect(badSince.status != 0)
        }
    }

    @Test("stats counts by type and ranks clients and subjects")
    func stats() async throws {
        try await withStore { config, _ in
            let result = try await gateway(["audit", "stats", "--config", config])
            #expect(result.status == 0, "\(result.output)")
            let lines = result.output.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
            #expect(lines.first?.hasSuffix(": 5") == true)
            #expect(lines.contains("rate_limited 2"))
            #expect(lines.contains("auth_invalid 1"))
            #expect(lines.contains("192.0.2.2 2"))
            #expect(lines.contains("bob 2"))
            let recent = try await gateway(["audit", "stats", "--config", config, "--since", "15m"])
            #expect(recent.output.split(separator: "\n").first?.hasSuffix(": 1") == true)
        }
    }

    @Test("verify passes on an intact chain")
    func verifyIntact() async throws {
        try await withStore { config, _ in
            let result = try await gateway(["audit", "verify", "--config", config])
            #expect(result.status == 0)
            #expect(result.output == "audit chain intact: 5 events\n")
        }
    }

    @Test(
        "verify fails on an edited or a deleted row and names it",
        arguments: [
            ("UPDATE audit_event SET subject = 'carol' WHERE id = 3", "row 3 was edited: its content does not match its hash"),
            ("DELETE FROM audit_event WHERE id = 2", "row 2 is missing: it was deleted"),
        ])
    func verifyTampered(sql: String, finding: String) async throws {
        try await withStore { config, storePath in
            try await DatabaseQueue(path: storePath).write { try $0.execute(sql: sql) }
            let result = try await gateway(["audit", "verify", "--config", config])
            #expect(result.status == 1)
            #expect(result.output == "audit chain broken: \(finding)\n")
        }
    }

    @Test("the audit commands refuse a store that does not exist yet, and create none")
    func missingStore() async throws {
        try await withStore(populated: false) { config, storePath in
            let result = try await gateway(["audit", "verify", "--config", config])
            #expect(result.status == 1)
            #expect(result.output.contains("no store yet"))
            #expect(!FileManager.default.fileExists(atPath: storePath))
        }
    }

    @Test("token revoke stores the revocation and audits it")
    func revoke() async throws {
        try await withStore { config, storePath in
            let bySubject = try await gateway(["token", "revoke", "--subject", "alice", "--config", config])
            #expect(bySubject.status == 0, "\(bySubject.output)")
            let byID = try await gateway(["token", "revoke", "--jti", "token-7", "--config", config])
            #expect(byID.status == 0, "\(byID.output)")
            let store = try SQLiteStore(path: storePath)
            let revocations = try await store.revocations()
            #expect(revocations.map(\.kind) == [.tokenID("token-7"), .subject("alice")])
            let subject = try #require(revocations.last)
            let lifetime = try #require(subject.expiresAt).timeIntervalSince(subject.revokedAt)
            #expect(abs(lifetime - 30 * 86_400) < 1)
            let audited = try await store.auditEvents(AuditQuery(type: .tokenRevoked))
            #expect(audited.map(\.id) == [7, 6])
            #expect(audited.last?.event.subject == "alice")
            #expect(try await store.verifyAuditChain() == .intact(events: 7))
        }
    }

    @Test("token revoke needs exactly one of --jti and --subject")
    func revokeArguments() async throws {
        try await withStore { config, _ in
            let neither = try await gateway(["token", "revoke", "--config", config])
            #expect(neither.status != 0)
            #expect(neither.output.contains("Give --jti or --subject."))
            let both = try await gateway(["token", "revoke", "--jti", "a", "--subject", "b", "--config", config])
            #expect(both.status != 0)
            #expect(both.output.contains("not both"))
        }
    }
}
