/// The line of every table, key and array element of a TOML document, by config key path
/// (`server`, `server.listen`, `route[2]`, `route[2].methods[1]`).
///
/// TOMLKit does not expose source positions, so the text is scanned once more here. The scan
/// assumes the document already parsed and only follows its structure: headers, keys, strings,
/// arrays and inline tables. Array-of-tables headers are numbered in order of appearance, as
/// the parser numbers their entries.
struct TOMLSourceMap {
    private var lines: [String: Int] = [:]

    init(text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.scanDocument()
        lines = scanner.lines
    }

    /// The line of `keyPath`, or else of the nearest enclosing table or key that appears in the
    /// text (the header of the table a missing key belongs in).
    func line(of keyPath: String) -> Int? {
        var path = Substring(keyPath)
        while !path.isEmpty {
            if let line = lines[String(path)] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            path = path[..<cut]
        }
        return nil
    }
}

extension TOMLSourceMap {
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lines: [String: Int] = [:]
        /// How many entries each array of tables has so far, by its key path without index.
        var arrayTableCounts: [String: Int] = [:]

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        private func peek(_ offset: Int) -> UInt8? {
            index + offset < bytes.count ? bytes[index + offset] : nil
        }

        mutating func scanDocument() {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
            var table = ""
            while true {
                skipTrivia(acrossLines: true)
                guard let byte = current else { return }
                let start = index
                if byte == UInt8(ascii: "[") {
                    table = scanHeader()
                } else {
                    scanKeyValue(in: table)
                }
                skipTrivia(acrossLines: false)
                while let byte = current, byte != UInt8(ascii: "\n") { index += 1 }
                if index == start { index += 1 }
            }
        }

        /// `[a.b]` or `[[a.b]]`; returns the key path of the table it opens.
        private mutating func scanHeader() -> String {
            let isArray = peek(1) == UInt8(ascii: "[")
            index += isArray ? 2 : 1
            let keys = scanKey()
            var path = ""
            for (position, key) in keys.enumerated() {
                path = Self.join(path, key)
                if isArray && position == keys.count - 1 {
                    let count = arrayTableCounts[path, default: 0]
                    arrayTableCounts[path] = count + 1
                    record(path)
                    path += "[\(count)]"
                } else if let count = arrayTableCounts[path] {
                    path += "[\(count - 1)]"
                }
                record(path)
            }
            index += isArray ? 2 : 1
            return path
        }

        private mutating func scanKeyValue(in table: String) {
            var path = table
            for key in scanKey() {
                path = Self.join(path, key)
                record(path)
            }
            skipTrivia(acrossLines: false)
            guard current == UInt8(ascii: "=") else { return }
            index += 1
            skipTrivia(acrossLines: false)
            scanValue(at: path)
        }

        /// A dotted key such as `a."b.c".d`, as its unquoted parts.
        private mutating func scanKey() -> [String] {
            var keys: [String] = []
            while true {
                skipTrivia(acrossLines: false)
                switch current {
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    let start = index + 1
                    scanString()
                    keys.append(Self.text(bytes[start..<max(start, index - 1)]))
                default:
                    let start = index
                    while let byte = current, Self.isBareKeyByte(byte) { index += 1 }
                    guard index > start else { return keys }
                    keys.append(Self.text(bytes[start..<index]))
                }
                skipTrivia(acrossLines: false)
                guard current == UInt8(ascii: ".") else { return keys }
                index += 1
            }
        }

        private mutating func scanValue(at path: String) {
            switch current {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                scanString()
            case UInt8(ascii: "["):
                scanArray(at: path)
            case UInt8(ascii: "{"):
                scanInlineTable(at: path)
            default:
                while let byte = current, !Self.endsScalar(byte) { index += 1 }
            }
        }

        private mutating func scanArray(at path: String) {
            index += 1
            var element = 0
            while true {
                skipTrivia(acrossLines: true)
                guard let byte = current, byte != UInt8(ascii: "]") else { break }
                let start = index
                let elementPath = "\(path)[\(element)]"
                record(elementPath)
                scanValue(at: elementPath)
                element += 1
                skipTrivia(acrossLines: true)
                if current == UInt8(ascii: ",") { index += 1 }
                if index == start { index += 1 }
            }
            index += 1
        }

        private mutating func scanInlineTable(at path: String) {
            index += 1
            while true {
                skipTrivia(acrossLines: true)
                guard let byte = current, byte != UInt8(ascii: "}") else { break }
                let start = index
                scanKeyValue(in: path)
                skipTrivia(acrossLines: true)
                if current == UInt8(ascii: ",") { index += 1 }
                if index == start { index += 1 }
            }
            index += 1
        }

        /// A basic or literal string, single- or multi-line, starting at its opening quote and
        /// leaving `index` just past the closing one.
        private mutating func scanString() {
            guard let quote = current else { return }
            let isMultiline = peek(1) == quote && peek(2) == quote
            index += isMultiline ? 3 : 1
            while let byte = current {
                if byte == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    index += 1
                    if current == UInt8(ascii: "\n") { line += 1 }
                } else if byte == UInt8(ascii: "\n") {
                    line += 1
                } else if byte == quote && (!isMultiline || (peek(1) == quote && peek(2) == quote)) {
                    index += isMultiline ? 3 : 1
                    // A multi-line string may end with up to two quotes of its own before the delimiter.
                    while isMultiline && current == quote { index += 1 }
                    return
                }
                index += 1
            }
        }

        /// Spaces, tabs, carriage returns and comments; newlines too if `acrossLines`.
        private mutating func skipTrivia(acrossLines: Bool) {
            while let byte = current {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    index += 1
                case UInt8(ascii: "#"):
                    while let byte = current, byte != UInt8(ascii: "\n") { index += 1 }
                case UInt8(ascii: "\n") where acrossLines:
                    line += 1
                    index += 1
                default:
                    return
                }
            }
        }

        private mutating func record(_ path: String) {
            if lines[path] == nil { lines[path] = line }
        }

        private static func join(_ path: String, _ key: String) -> String {
            path.isEmpty ? key : "\(path).\(key)"
        }

        private static func isBareKeyByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }

        /// Numbers, booleans and dates run up to one of these.
        private static func endsScalar(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "#"),
                UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return true
            default:
                return false
            }
        }

        private static func text(_ bytes: ArraySlice<UInt8>) -> String {
            String(decoding: bytes, as: UTF8.self)
        }
    }
}
