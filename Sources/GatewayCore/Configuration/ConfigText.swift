/// Checks of a config file's text before the TOML parser (toml++, through TOMLKit) sees it. The
/// parser aborts the process on some malformed inputs (an `assert` that release builds keep), and
/// its test for non-ASCII whitespace is undefined behaviour for some code points, so what could
/// reach either is refused here with a problem naming the line. Each was found by `Fuzz/run`.
enum ConfigText {
    /// The first problem of `text`, if any.
    static func problem(in text: String, file: String) -> ConfigProblem? {
        syntaxProblem(in: text, file: file) ?? tableHeaderProblem(in: text, file: file)
    }

    private enum Place {
        case syntax, comment, basicString, literalString, multilineBasicString, multilineLiteralString
    }

    /// TOML allows no raw control character but tab and line ends, anywhere: the parser reads C
    /// strings (it would stop at a NUL byte), and `[` then U+001F tripped its assertion.
    ///
    /// Non-ASCII text belongs in strings and comments. Elsewhere no key, table name or bare value
    /// of the gateway's config takes it, and the parser may take it for whitespace where a reader
    /// (and the header check below) sees none: a byte order mark before `[ #` reached the assertion.
    ///
    /// A `}` where an array's element belongs (after `[` or `,`) reached another assertion.
    private static func syntaxProblem(in text: String, file: String) -> ConfigProblem? {
        let scalars = Array(text.unicodeScalars)
        func starts(with quote: Unicode.Scalar, at index: Int) -> Bool {
            index + 2 < scalars.count && scalars[index] == quote && scalars[index + 1] == quote && scalars[index + 2] == quote
        }
        var place = Place.syntax
        var line = 1
        var index = 0
        /// The last character outside strings and comments that is not a space, tab or line end.
        var lastSignificant: Unicode.Scalar?
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "\n" {
                line += 1
                if place == .comment || place == .basicString || place == .literalString { place = .syntax }
            } else if scalar.value < 0x20 && scalar != "\t" && scalar != "\r" || scalar.value == 0x7F {
                return ConfigProblem(
                    file: file, line: line, keyPath: "",
                    message: scalar.value == 0
                        ? "the file contains a NUL byte" : "the file contains the control character \(codePoint(scalar))",
                    allowed: "tab and line ends; inside a string, write other control characters escaped, such as \\u001F")
            }
            switch place {
            case .syntax where !scalar.isASCII:
                return ConfigProblem(
                    file: file, line: line, keyPath: "", message: "the file contains \(codePoint(scalar)) outside a string or comment",
                    allowed: "ASCII; non-ASCII text goes in quoted strings and comments")
            case .syntax where scalar == "}" && (lastSignificant == "[" || lastSignificant == ","):
                return ConfigProblem(
                    file: file, line: line, keyPath: "", message: "a \"}\" stands where an array's element belongs",
                    allowed: "a value, or \"]\" to close the array")
            case .syntax:
                if scalar != " " && scalar != "\t" && scalar != "\r" && scalar != "\n" && scalar != "#" { lastSignificant = scalar }
                if scalar == "#" {
                    place = .comment
                } else if scalar == "\"" || scalar == "'" {
                    let multiline = starts(with: scalar, at: index)
                    if multiline { index += 2 }
                    place =
                        scalar == "\""
                        ? (multiline ? .multilineBasicString : .basicString) : (multiline ? .multilineLiteralString : .literalString)
                }
            case .comment:
                break
            case .basicString, .multilineBasicString:
                if scalar == "\\" {
                    // The escaped character, possibly the line end of a line-ending backslash.
                    if index + 1 < scalars.count, scalars[index + 1] == "\n" { line += 1 }
                    index += 1
                } else if place == .basicString, scalar == "\"" {
                    place = .syntax
                } else if place == .multilineBasicString, starts(with: "\"", at: index) {
                    index = closingEnd(of: "\"", at: index, in: scalars) - 1
                    place = .syntax
                }
            case .literalString:
                if scalar == "'" { place = .syntax }
            case .multilineLiteralString:
                if starts(with: "'", at: index) {
                    index = closingEnd(of: "'", at: index, in: scalars) - 1
                    place = .syntax
                }
            }
            index += 1
        }
        return nil
    }

    /// Where a multi-line string's closing delimiter at `index` ends: up to two more quotes right
    /// before it are the string's last characters.
    private static func closingEnd(of quote: Unicode.Scalar, at index: Int, in scalars: [Unicode.Scalar]) -> Int {
        var end = index + 3
        var extra = 0
        while extra < 2, end < scalars.count, scalars[end] == quote {
            end += 1
            extra += 1
        }
        return end
    }

    /// `U+001F`.
    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A line opening a table header (`[` or `[[` first on the line) must name the table at once:
    /// the parser aborts the process on anything else after the bracket (`[` then a line end, `#`,
    /// `*`). This also refuses a nested array opened on a line of its own, which no key of the
    /// gateway's config takes.
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
