import ArgumentParser
import Foundation
import GatewayCore
import Logging

extension ConfigOption {
    /// Opens the store the config file names, printing what is wrong to stderr and failing if
    /// it cannot. A SQLite file is opened in WAL mode beside a running gateway, which keeps writing.
    ///
    /// - Parameter mustExist: refuse a missing SQLite file instead of creating an empty store, for
    ///   commands that only read.
    func openStore(mustExist: Bool) async throws -> any GatewayStore {
        let gatewayConfig = try ConfigCheck.loadConfig(path: config)
        let store = gatewayConfig.store
        if store.postgres == nil, mustExist, !FileManager.default.fileExists(atPath: store.path) {
            Console.printError("\(store.path): no store yet (store.path of \(config)); the gateway creates it when it starts")
            throw ExitCode.failure
        }
        return try await StoreAccess.open(gatewayConfig)
    }
}

enum StoreAccess {
    /// Opens the config's store, creating a SQLite file if needed; prints why it cannot to stderr and fails.
    static func open(_ config: GatewayConfig, logger: Logger = Logger(label: "gateway.store")) async throws -> any GatewayStore {
        do {
            return try await config.store.open(nodeName: config.server.nodeName, logger: logger)
        } catch {
            Console.printError("\(config.store.location): \(error)")
            throw ExitCode.failure
        }
    }
}

/// Output of the operator commands.
enum Console {
    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `text` safe to print on a terminal: control characters, which a client could have put in
    /// a path or a token's subject, are shown escaped instead of being interpreted.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Times as the commands print them: ISO 8601 in UTC, to the millisecond.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

// swift-format-ignore: AvoidRetroactiveConformances
// ArgumentParser parses option values only through this protocol.
extension Duration: @retroactive ExpressibleByArgument {
    /// A config duration such as `30m`, `24h` or `7d`.
    public init?(argument: String) {
        self.init(configValue: argument)
    }

    public var defaultValueDescription: String { configDescription }
}

extension AuditEventType: ExpressibleByArgument {}
