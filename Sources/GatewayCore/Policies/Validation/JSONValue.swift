/// A JSON document as the gateway's validator reads it: strictly (RFC 8259), within limits, with
/// object members in order and never repeated.
indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The value, and whether its text had no fraction or exponent.
    case number(Double, isInteger: Bool)
    case string(String)
    case array([JSONValue])
    case object([(name: String, value: JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a, _), .number(let b, _)): a == b
        case (.string(let a), .string(let b)): a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && a.allSatisfy { member in b.contains { $0.name.isSameJSONText(member.name) && $0.value == member.value } }
        default: false
        }
    }

    /// The member named `name` of an object.
    func member(_ name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name.isSameJSONText(name) }?.value
    }

    /// JSON Schema's name for the value's type (`integer` for a number without fraction or exponent).
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(_, let isInteger): isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension String {
    /// Equal as JSON text: the same Unicode scalars. Swift's `==` also equates canonically
    /// equivalent strings (the Kelvin sign and `K`), which an upstream's JSON parser does not.
    func isSameJSONText(_ other: String) -> Bool {
        unicodeScalars.elementsEqual(other.unicodeScalars)
    }
}

/// Where and why a body is not acceptable JSON; `offset` counts bytes from the body's start.
struct JSONSyntaxError: Error, Equatable {
    let offset: Int
    let message: String

    var description: String { "\(message) at byte offset \(offset)" }

    /// How a message about a member name that appears twice in one object begins.
    static let repeatedMemberMessage = "repeated member name "
}

/// Reads JSON bytes into a ``JSONValue``, refusing anything RFC 8259 does not allow (trailing
/// commas, comments, single quotes, invalid UTF-8, lone surrogates, control characters in
/// strings), a repeated member name, nesting deeper than `maximumDepth`, and more than
/// `maximumMembers` object members and array elements in all.
struct JSONReader {
    let maximumDepth: Int
    let maximumMembers: Int

    static let requestBodies = JSONReader(maximumDepth: 32, maximumMembers: 10_000)

    func read(_ bytes: some Collection<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = Parser(bytes: Array(bytes), maximumDepth: maximumDepth, maximumMembers: maximumMembers)
        parser.skipWhitespace()
        let value = try parser.value(depth: 1)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        let maximumDepth: Int
        let maximumMembers: Int
        var index = 0
        var members = 0

        init(bytes: [UInt8], maximumDepth: Int, maximumMembers: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
            self.maximumMembers = maximumMembers
        }

        func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, message: message) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            guard let byte = current else { throw error("unexpected end of JSON") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character")
            }
        }

        mutating func enter(_ depth: Int) throws(JSONSyntaxError) {
            guard depth <= maximumDepth else { throw error("nesting deeper than \(maximumDepth)") }
        }

        mutating func countMember() throws(JSONSyntaxError) {
            members += 1
            guard members <= maximumMembers else { throw error("more than \(maximumMembers) members") }
        }

        mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            try enter(depth)
            index += 1
            var result: [(name: String, value: JSONValue)] = []
            var names = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(result)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let nameOffset = index
                let name = try string()
                guard names.insert(name).inserted else {
                    throw JSONSyntaxError(offset: nameOffset, message: JSONSyntaxError.repeatedMemberMessage + name.debugDescription)
                }
                try countMember()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                index += 1
                skipWhitespace()
                result.append((name, try value(depth: depth + 1)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .object(result)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            try enter(depth)
            index += 1
            var result: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(result)
            }
            while true {
                skipWhitespace()
                try countMember()
                result.append(try value(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(result)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func literal(_ text: String) throws(JSONSyntaxError) {
            let expected = text.utf8
            guard index + expected.count <= bytes.count, bytes[index..<index + expected.count].elementsEqual(expected) else {
                throw error("unexpected character")
            }
            index += expected.count
        }

        mutating func number() throws(JSONSyntaxError) -> JSONValue {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, first.isDigit else { throw error("expected a digit") }
            index += 1
            if first != UInt8(ascii: "0") { while current?.isDigit == true { index += 1 } }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard current?.isDigit == true else { throw error("expected a digit") }
                while current?.isDigit == true { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard current?.isDigit == true else { throw error("expected a digit") }
                while current?.isDigit == true { index += 1 }
            }
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else {
                throw JSONSyntaxError(offset: start, message: "number out of range")
            }
            return .number(value, isInteger: isInteger)
        }

        mutating func string() throws(JSONSyntaxError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var run = index
            func flush(_ parser: Parser, upTo end: Int) throws(JSONSyntaxError) {
                guard run < end else { return }
                guard let text = String(validating: parser.bytes[run..<end], as: UTF8.self) else {
                    throw JSONSyntaxError(offset: run, message: "invalid UTF-8")
                }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    try flush(self, upTo: index)
                    index += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    try flush(self, upTo: index)
                    scalars.append(try escape())
                    run = index
                case ..<0x20:
                    throw error("control character in a string")
                default:
                    index += 1
                }
            }
            throw error("unterminated string")
        }

        mutating func escape() throws(JSONSyntaxError) -> Unicode.Scalar {
            index += 1
            guard let byte = current else { throw error("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let high = try hex4()
                if (0xD800...0xDBFF).contains(high) {
                    guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("lone surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate") }
                    return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(high) else { throw error("lone surrogate") }
                return scalar
            default:
                index -= 1
                throw error("invalid escape")
            }
        }

        mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                bytes[index..<index + 4].allSatisfy({ $0.isHexDigit })
            else { throw error("invalid \\u escape") }
            index += 4
            return value
        }
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    fileprivate var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
