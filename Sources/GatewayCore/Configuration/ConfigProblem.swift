/// One thing wrong with a config file, located by file, line and key path.
///
/// Renders as `FILE:LINE: key.path: message (allowed: …)`; the line is left out when it is
/// unknown, the key path when the problem concerns the file as a whole (unreadable, bad TOML
/// syntax), and the allowed part when there is nothing useful to list.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// The config file as it was named to the loader.
    public var file: String
    /// One-based line, when the problem can be pinned to one.
    public var line: Int?
    /// Where in the document: `server.listen`, `upstream[0].url`, `route[2].auth`.
    public var keyPath: String
    /// What is wrong.
    public var message: String
    /// What would be accepted instead.
    public var allowed: String?

    public init(file: String, line: Int?, keyPath: String, message: String, allowed: String? = nil) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.message = message
        self.allowed = allowed
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if !keyPath.isEmpty { text += "\(keyPath): " }
        text += message
        if let allowed { text += " (allowed: \(allowed))" }
        return text
    }
}

/// Every problem found in a config file; loading fails with this when there is at least one.
public struct ConfigErrors: Error, CustomStringConvertible {
    /// In the order of the file's lines; problems without a line come last.
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
