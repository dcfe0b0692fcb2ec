/// What a value parser reports when its text is not acceptable: the message for the key and
/// what would be accepted instead.
struct ConfigValueProblem: Error {
    var message: String
    var allowed: String?

    init(_ message: String, allowed: String? = nil) {
        self.message = message
        self.allowed = allowed
    }
}

/// The state of decoding one config file: where it lives, where its keys are, and every
/// problem found so far. Lives for one ``ConfigLoader/parse(text:sourcePath:)`` call.
final class ConfigContext {
    /// The file as named to the loader, for messages.
    let file: String
    /// Absolute directory of the file, against which relative paths in it are resolved.
    let directory: String
    private let sourceMap: TOMLSourceMap
    private var problems: [ConfigProblem] = []
    /// Settings that are allowed but weaker than they should be: the gateway starts, and says so.
    private(set) var warnings: [ConfigProblem] = []

    init(file: String, text: String) {
        self.file = file
        self.directory = ConfigPath.directory(of: file)
        self.sourceMap = TOMLSourceMap(text: text)
    }

    var hasProblems: Bool { !problems.isEmpty }

    /// The problems in line order; within a line, and for those without one (last), in the
    /// order they were found.
    var sortedProblems: [ConfigProblem] {
        problems.enumerated()
            .sorted { ($0.element.line ?? .max, $0.offset) < ($1.element.line ?? .max, $1.offset) }
            .map(\.element)
    }

    func report(_ keyPath: String, _ message: String, allowed: String? = nil) {
        problems.append(
            ConfigProblem(file: file, line: sourceMap.line(of: keyPath), keyPath: keyPath, message: message, allowed: allowed)
        )
    }

    func report(_ keyPath: String, _ problem: ConfigValueProblem) {
        report(keyPath, problem.message, allowed: problem.allowed)
    }

    func warn(_ keyPath: String, _ message: String) {
        warnings.append(ConfigProblem(file: file, line: sourceMap.line(of: keyPath), keyPath: keyPath, message: message))
    }
}

extension String {
    /// The string in double quotes with escapes, for quoting a config value in a message.
    var quotedForConfig: String { debugDescription }
}
