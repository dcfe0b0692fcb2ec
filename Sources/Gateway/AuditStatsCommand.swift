import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand.Audit {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count audit events by type, and list the busiest clients and subjects.",
            discussion: "Lists the top \(AuditStats.topLimit) client addresses and token subjects by number of events."
        )

        @OptionGroup var options: ConfigOption

        @Option(help: ArgumentHelp("Count the events of the last duration, e.g. 1h, 24h, 7d.", valueName: "duration"))
        var since: Duration = .seconds(86_400)

        func run() async throws {
            let store = try await options.openStore(mustExist: true)
            let start = Date.now.adding(.zero - since)
            let stats = try await store.auditStats(since: start)
            print("audit events since \(Console.timestamp(start)): \(stats.total)")
            let types = AuditEventType.allCases.compactMap { type in
                stats.countsByType[type].map { AuditCount(value: type.rawValue, count: $0) }
            }
            let sections = [
                Self.section("by type", types.sorted { $0.count > $1.count }),
                Self.section("top clients", stats.topClients),
                Self.section("top subjects", stats.topSubjects),
            ]
            print("\n" + sections.joined(separator: "\n\n"))
        }

        /// A heading and its values with their counts right-aligned in one column.
        private static func section(_ title: String, _ counts: [AuditCount]) -> String {
            guard !counts.isEmpty else { return "\(title): none" }
            let values = counts.map { Console.printable($0.value) }
            let width = values.map(\.count).max() ?? 0
            let countWidth = counts.map { String($0.count).count }.max() ?? 0
            let lines = zip(values, counts).map { value, count in
                let number = String(count.count)
                return "  " + value.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                    + String(repeating: " ", count: countWidth - number.count) + number
            }
            return ([title + ":"] + lines).joined(separator: "\n")
        }
    }
}
