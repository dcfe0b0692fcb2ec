import TOMLKit

/// Reads the gateway's TOML config file and validates it into a ``GatewayConfig``.
///
/// Every problem in the file is collected, not just the first, so that one run of
/// `gateway check-config` shows all there is to fix.
public enum ConfigLoader {
    /// Reads and validates the file at `path`. Relative paths inside it are resolved against
    /// the file's directory.
    public static func load(path: String) throws(ConfigErrors) -> GatewayConfig {
        let text: String
        do {
            text = try ConfigFile.contents(of: path)
        } catch {
            throw ConfigErrors(problems: [ConfigProblem(file: path, line: nil, keyPath: "", message: error.message)])
        }
        return try parse(text: text, sourcePath: path)
    }

    /// Validates `text` as if read from `sourcePath`, which names the file in problems and is
    /// the base for relative paths; the file itself is not read.
    public static func parse(text: String, sourcePath: String) throws(ConfigErrors) -> GatewayConfig {
        // A byte order mark some editors write first is no part of the document.
        let text = text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
        if let problem = characterProblem(in: text, file: sourcePath) ?? tableHeaderProblem(in: text, file: sourcePath) {
            throw ConfigErrors(problems: [problem])
        }
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

    /// TOML allows no raw control character but tab and line ends, anywhere. They are refused
    /// before parsing: the parser reads C strings (it would stop at a NUL byte), and some of them
    /// (e.g. `[` then U+001F) trip an assertion in it that aborts the process.
    ///
    /// Non-ASCII spaces and line separators are refused too. The parser takes them as whitespace
    /// where the checks below (and a reader) see none: `U+00A0[ #` aborted it (found by `Fuzz/run`
    /// as a byte order mark before such a header), and a key could look like another.
    private static func characterProblem(in text: String, file: String) -> ConfigProblem? {
        var line = 1
        for scalar in text.unicodeScalars {
            if scalar == "\n" {
                line += 1
            } else if scalar.value < 0x20 && scalar != "\t" && scalar != "\r" || scalar.value == 0x7F {
                return ConfigProblem(
                    file: file, line: line, keyPath: "",
                    message: scalar.value == 0
                        ? "the file contains a NUL byte" : "the file contains the control character \(codePoint(scalar))",
                    allowed: "tab and line ends; inside a string, write other control characters escaped, such as \\u001F")
            } else if isUnicodeSpace(scalar) {
                return ConfigProblem(
                    file: file, line: line, keyPath: "", message: "the file contains the non-ASCII space \(codePoint(scalar))",
                    allowed: "spaces and tabs; inside a string, write it escaped, such as \\u00A0")
            }
        }
        return nil
    }

    /// Spaces and line separators beyond ASCII that the TOML parser skips as whitespace.
    private static func isUnicodeSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x85, 0xA0, 0x1680, 0x180E, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// `U+001F`.
    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A line opening a table header (`[` or `[[` first on the line) must name the table at once:
    /// the TOML parser aborts the process on anything else after the bracket (`[` then a line end,
    /// `#`, `*`, a non-ASCII letter). Found by `Fuzz/run`. This also refuses a nested array opened on
    /// a line of its own, which no key of the gateway's config takes.
    private static func tableHeaderProblem(in text: String, file: String) -> ConfigProblem? {
        for (index, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var rest = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            guard rest.first == UInt8(ascii: "[") else { continue }
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "[") { rest = rest.dropFirst() }
            rest = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            // The line's end right after the bracket counts as a missing name too.
            if let first = rest.first, isTableNameStart(first) { continue }
            return ConfigProblem(
                file: file, line: index + 1, keyPath: "", message: "a table header must name its table right after the bracket",
                allowed: #"a name of letters, digits, "_" and "-", or a quoted name, e.g. [server] or [[route]]"#)
        }
        return nil
    }

    private static func isTableNameStart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }
}
