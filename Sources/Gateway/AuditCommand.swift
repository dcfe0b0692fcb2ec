import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand {
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify, query and summarise the audit trail.",
            discussion: """
                The gateway records one event per security decision (refused token, limit hit, bad request, \
                upstream failure, config reload, revocation) in its store (store.path or store.url). These \
                commands read it directly, also while the gateway runs; in a shared PostgreSQL store each \
                gateway (server.node_name) has a chain of its own.
                """,
            subcommands: [Verify.self, Query.self, Stats.self]
        )
    }
}

extension GatewayCommand.Audit {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that no audit event was edited or deleted.",
            discussion: """
                Each event is stored with a hash of its content chained to the previous event's hash. This \
                walks the chain from the last retention checkpoint and exits 0 if it is intact, or prints \
                the first broken row and exits 1.
                """
        )

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let store = try await options.openStore(mustExist: true)
            switch try await store.verifyAuditChain() {
            case .intact(let events):
                print("audit chain intact: \(events) events")
            case .broken(let broken):
                print("audit chain broken: \(broken)")
                throw ExitCode.failure
            }
        }
    }
}
