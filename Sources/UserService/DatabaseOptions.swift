import ArgumentParser
import Foundation

/// The `--database` option shared by every subcommand.
struct DatabaseOptions: ParsableArguments {
    static let environmentVariable = "USERSERVICE_DATABASE"
    static let defaultPath = "./userservice.sqlite"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite database file (default: $\(Self.environmentVariable), else \(Self.defaultPath)).",
            valueName: "path"
        )
    )
    var database: String?

    /// The option, else the environment variable, else the default path.
    var path: String {
        self.database ?? ProcessInfo.processInfo.environment[Self.environmentVariable] ?? Self.defaultPath
    }
}
