import AsyncHTTPClient
import Foundation
import GatewayCore
import Testing

/// `gateway store migrate|status|backup` on a SQLite store, backup while the real gateway writes.
@Suite("Store commands", .timeLimit(.minutes(3)))
struct StoreCommandTests {
    @Test("migrate creates the store at this gateway's schema version; status reports it and the table sizes")
    func migrateAndStatus() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try writeConfig(in: directory, upstreamPort: 8081)

        let missing = try await runGateway(["store", "status", "--config", config])
        #expect(missing.status == 1)
        #expect(missing.output.contains("no store yet"), "\(missing.output)")

        let migrate = try await runGateway(["store", "migrate", "--config", config])
        #expect(migrate.status == 0, "\(migrate.output)")
        let current = try await SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path).status()
        #expect(current.schemaVersion == current.currentSchemaVersion && current.schemaVersion > 0)
        #expect(migrate.output.contains("schema at version \(current.schemaVersion) of \(current.schemaVersion)"), "\(migrate.output)")

        let store = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
        try await store.appendAudit(AuditCommandTests.events(before: Date()))
        let status = try await runGateway(["store", "status", "--config", config])
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("store:               sqlite "), "\(status.output)")
        #expect(status.output.contains("audit events:        5"), "\(status.output)")
        #expect(status.output.contains("revocations:         0"), "\(status.output)")
    }

    @Test("backup copies the store while the gateway keeps writing it; the copy verifies; an existing file is never replaced")
    func onlineBackup() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, routes: AuditShutdownTests.routes)
            let gateway = try await GatewayProcess.start(configPath: config)
            let load = RefusedRequestLoad(url: "https://localhost:\(gateway.port)/users/me", connections: 2)
            let copy = directory.appendingPathComponent("copy.sqlite").path
            let (backup, refusedAfterBackup) = try await AuditShutdownTests.withClient { client in
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await load.run(client) }
                    defer { load.stop() }
                    try await load.waitForRefusals(100, timeout: .seconds(60))
                    let backup = try await runGateway(["store", "backup", "--config", config, copy])
                    let refused = load.refused
                    // The gateway goes on answering and recording while and after the copy is taken.
                    try await load.waitForRefusals(refused + 100, timeout: .seconds(60))
                    return (backup, refused)
                }
            }
            #expect(await gateway.terminate() == .success, "\(gateway.log)")
            #expect(backup.status == 0, "\(backup.output)")
            #expect(backup.output.contains("backed up"), "\(backup.output)")
            #expect(load.failed == 0 && load.otherStatuses == 0, "\(load)")

            let copied = try SQLiteStore(path: copy)
            guard case .intact(let copiedEvents) = try await copied.verifyAuditChain() else {
                Issue.record("the backup's audit chain is broken")
                return
            }
            let live = try SQLiteStore(path: directory.appendingPathComponent("gateway.sqlite").path)
            guard case .intact(let liveEvents) = try await live.verifyAuditChain() else {
                Issue.record("the live store's audit chain is broken")
                return
            }
            // One consistent moment: some events, and fewer than the gateway recorded by the end.
            #expect(
                copiedEvents > 0 && copiedEvents < liveEvents,
                "copy \(copiedEvents), live \(liveEvents), refused at backup \(refusedAfterBackup)")
            #expect(try await copied.installKey() == live.installKey())

            let again = try await runGateway(["store", "backup", "--config", config, copy])
            #expect(again.status == 1)
            #expect(again.output.contains("already exists"), "\(again.output)")
            #expect(!FileManager.default.fileExists(atPath: copy + ".partial"))
        }
    }
}
