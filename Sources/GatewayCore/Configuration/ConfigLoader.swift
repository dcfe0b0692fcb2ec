import Crypto
import TOMLKit

/// Reads the gateway's TOML config file and validates it into a ``GatewayConfig``.
///
/// Every problem in the file is collected, not just the first, so that one run of
/// `gateway check-config` shows all there is to fix.
public enum ConfigLoader {
    /// Reads and validates the file at `path`. Relative paths inside it are resolved against
    /// the file's directory.
    public static func load(path: String) throws(ConfigErrors) -> GatewayConfig {
        try parse(text: try text(path: path), sourcePath: path)
    }

    /// The text of the file at `path`, as ``load(path:)`` reads it.
    public static func text(path: String, regularOnly: Bool = false) throws(ConfigErrors) -> String {
        do {
            return try ConfigFile.contents(of: path, regularOnly: regularOnly)
        } catch {
            throw ConfigErrors(problems: [ConfigProblem(file: path, line: nil, keyPath: "", message: error.message)])
        }
    }

    /// The SHA-256 of `text` in hex: how a reload knows the daemon parses the text its check passed.
    public static func digest(of text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).hexString
    }

    /// Validates `text` as if read from `sourcePath`, which names the file in problems and is
    /// the base for relative paths; the file itself is not read.
    public static func parse(text: String, sourcePath: String) throws(ConfigErrors) -> GatewayConfig {
        // A byte order mark some editors write first is no part of the document.
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        if let problem = ConfigText.problem(in: text, file: sourcePath) { throw ConfigErrors(problems: [problem]) }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let position = error.source.begin
            let problem = ConfigProblem(
                file: sourcePath,
                line: position.line,
                keyPath: "",
                message: "TOML syntax error at column \(position.column): \(error.description)"
            )
            throw ConfigErrors(problems: [problem])
        } catch {
            throw ConfigErrors(problems: [ConfigProblem(file: sourcePath, line: nil, keyPath: "", message: "TOML syntax error")])
        }
        let context = ConfigContext(file: sourcePath, text: text)
        var config = GatewayConfig(decoding: root, context: context)
        guard !context.hasProblems else { throw ConfigErrors(problems: context.sortedProblems) }
        config.warnings = context.warnings
        return config
    }
}
