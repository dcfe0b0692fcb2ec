import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand.Audit {
    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List audit events, newest first.",
            discussion: "Every filter given must match. Prints an aligned table, or with --json one JSON object per line."
        )

        @OptionGroup var options: ConfigOption

        @Option(help: ArgumentHelp("Only events of the last duration, e.g. 30m, 1h, 7d.", valueName: "duration"))
        var since: Duration?

        @Option(help: ArgumentHelp("Only events of this type.", valueName: "type"))
        var type: AuditEventType?

        @Option(help: ArgumentHelp("Only events about this token subject.", valueName: "subject"))
        var subject: String?

        @Option(help: ArgumentHelp("Only events from this client address.", valueName: "address"))
        var client: String?

        @Option(help: ArgumentHelp("The most events to list.", valueName: "n"))
        var limit = 100

        @Flag(help: "Print JSON lines instead of a table.")
        var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1.") }
        }

        func run() async throws {
            let store = try await options.openStore(mustExist: true)
            let query = AuditQuery(
                since: since.map { Date.now.adding(.zero - $0) },
                type: type, subject: subject, client: client, limit: limit)
            let events = try await store.auditEvents(query)
            if json {
                for event in events { print(try AuditJSONLine(event).text) }
            } else {
                print(AuditTable(events).text)
            }
        }
    }
}
