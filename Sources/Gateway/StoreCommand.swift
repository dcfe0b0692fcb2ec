import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand {
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Migrate, inspect and back up the gateway's store.",
            discussion: """
                The store is the SQLite file of store.path, or the PostgreSQL database of store.url that \
                several gateways share. A gateway migrates its store when it starts; `store migrate` does \
                it beforehand, e.g. once before a fleet of gateways is upgraded.
                """,
            subcommands: [Migrate.self, Status.self, Backup.self]
        )
    }
}

extension GatewayCommand.Store {
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring the store's schema to this gateway's version.",
            discussion: """
                Creates the store if it does not exist. Exits 1 if the store was migrated by a newer \
                gateway, which this one must not write to.
                """
        )

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let store = try await options.openStore(mustExist: false)
            let status = try await store.status()
            await store.close()
            print("\(store.location): schema at version \(status.schemaVersion) of \(status.currentSchemaVersion)")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the store's schema version, its table sizes and the gateways writing to it.",
            discussion: "Exits 1 if the store cannot be reached."
        )

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let store = try await options.openStore(mustExist: true)
            let status = try await store.status()
            await store.close()
            print("store:               \(status.engine) \(store.location)")
            print("schema version:      \(status.schemaVersion) (this gateway writes \(status.currentSchemaVersion))")
            print("audit events:        \(status.auditEvents)")
            print("revocations:         \(status.revocations)")
            print("rate limit counters: \(status.rateLimitCounters)")
            for node in status.nodes {
                let newest = node.newestEvent.map { ", newest \(Console.timestamp($0))" } ?? ""
                print("gateway \(Console.printable(node.name)): \(node.eventsAppended) audit events appended\(newest)")
            }
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite store to a new file while the gateway keeps running.",
            discussion: """
                Uses SQLite's online backup: the copy is one consistent moment of the store, and a gateway \
                writing meanwhile does not notice. PATH must not exist. To restore, stop the gateway and \
                put the copy in place of store.path. A PostgreSQL store is backed up with pg_dump:
                  pg_dump --format=custom --file=gateway.dump 'postgres://USER@HOST/DB?sslmode=verify-full'
                and restored with pg_restore --clean --if-exists --dbname=... gateway.dump.
                """
        )

        @OptionGroup var options: ConfigOption

        @Argument(help: ArgumentHelp("The file to write; it must not exist.", valueName: "path"))
        var path: String

        func run() async throws {
            let config = try ConfigCheck.loadConfig(path: options.config)
            if let postgres = config.store.postgres {
                Console.printError(
                    "store.url is a PostgreSQL database: back it up with pg_dump --format=custom --file=\(path) '\(postgres.url)'")
                throw ExitCode.failure
            }
            guard let store = try await options.openStore(mustExist: true) as? SQLiteStore else { throw ExitCode.failure }
            do {
                try await store.backup(to: path)
            } catch {
                Console.printError("\(path): \(error)")
                throw ExitCode.failure
            }
            // Reading the copy back proves it is a store this gateway opens.
            let status = try await SQLiteStore(path: path).status()
            print("backed up \(store.location) to \(path): \(status.auditEvents) audit events, \(status.revocations) revocations")
        }
    }
}
