import Foundation

/// A JSON Schema (draft 2020-12) of the keywords the gateway supports, compiled once at load:
/// `type`, `properties`, `required`, `additionalProperties`, `enum`, `const`, `minLength`,
/// `maxLength`, `pattern`, `format: email`, `minimum`, `maximum`, `items`, `minItems`, `maxItems`.
/// Any other validation keyword is refused at load, so that a schema never seems to check what it
/// does not; annotations (`$schema`, `$id`, `title`, `description`, …) are ignored.
final class JSONSchema: Sendable {
    /// One way a value fails the schema: where (a JSON pointer) and what.
    struct Violation: Equatable, Sendable {
        let pointer: String
        let message: String
    }

    /// Why a schema document was refused, with the JSON pointer of the offending keyword.
    struct CompileError: Error, Equatable {
        let pointer: String
        let message: String
        var description: String { pointer.isEmpty ? message : "\(pointer): \(message)" }
    }

    private let types: [String]?
    private let properties: [(name: String, schema: JSONSchema)]
    private let required: [String]
    /// `nil`: any other member; `.some(nil)`: none allowed (`false`); a schema: others must match it.
    private let additionalProperties: AdditionalProperties
    private let allowedValues: [JSONValue]?
    private let constant: JSONValue?
    private let minLength: Int?
    private let maxLength: Int?
    private let pattern: NSRegularExpressionBox?
    private let isEmail: Bool
    private let minimum: Double?
    private let maximum: Double?
    private let items: JSONSchema?
    private let minItems: Int?
    private let maxItems: Int?

    private enum AdditionalProperties: Sendable {
        case any, none
        case schema(JSONSchema)
    }

    static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly",
    ]
    /// Longest string a `pattern` is matched against.
    static let maximumPatternInput = 4_096
    static let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "integer", "string"]

    /// Compiles a schema document.
    convenience init(document: JSONValue) throws(CompileError) {
        try self.init(document, pointer: "")
    }

    private init(_ schema: JSONValue, pointer: String) throws(CompileError) {
        func fail(_ keyword: String, _ message: String) -> CompileError {
            CompileError(pointer: pointer + "/" + keyword, message: message)
        }
        guard case .object(let members) = schema else { throw CompileError(pointer: pointer, message: "a schema must be an object") }
        var keywords: [String: JSONValue] = [:]
        for member in members {
            guard Self.annotations.contains(member.name) || Self.supported.contains(member.name) else {
                throw fail(member.name, "unsupported keyword \(member.name.debugDescription)")
            }
            keywords[member.name] = member.value
        }
        switch keywords["type"] {
        case nil: types = nil
        case .string(let name)? where Self.typeNames.contains(name): types = [name]
        case .array(let names)?:
            let list = names.compactMap { if case .string(let name) = $0, Self.typeNames.contains(name) { name } else { nil } }
            guard list.count == names.count, !list.isEmpty else { throw fail("type", "must name JSON Schema types") }
            types = list
        default: throw fail("type", "must name JSON Schema types")
        }
        if case .object(let declared)? = keywords["properties"] {
            var compiled: [(String, JSONSchema)] = []
            for property in declared {
                compiled.append(
                    (property.name, try JSONSchema(property.value, pointer: "\(pointer)/properties/\(Self.escape(property.name))")))
            }
            properties = compiled
        } else if keywords["properties"] != nil {
            throw fail("properties", "must be an object")
        } else {
            properties = []
        }
        guard let requiredNames = Self.strings(keywords["required"]) else { throw fail("required", "must be an array of strings") }
        required = requiredNames
        switch keywords["additionalProperties"] {
        case nil, .bool(true)?: additionalProperties = .any
        case .bool(false)?: additionalProperties = .none
        case let other?: additionalProperties = .schema(try JSONSchema(other, pointer: pointer + "/additionalProperties"))
        }
        if case .array(let values)? = keywords["enum"] {
            allowedValues = values
        } else if keywords["enum"] != nil {
            throw fail("enum", "must be an array")
        } else {
            allowedValues = nil
        }
        constant = keywords["const"]
        minLength = try Self.count(keywords["minLength"]) { fail("minLength", $0) }
        maxLength = try Self.count(keywords["maxLength"]) { fail("maxLength", $0) }
        minItems = try Self.count(keywords["minItems"]) { fail("minItems", $0) }
        maxItems = try Self.count(keywords["maxItems"]) { fail("maxItems", $0) }
        minimum = try Self.bound(keywords["minimum"]) { fail("minimum", $0) }
        maximum = try Self.bound(keywords["maximum"]) { fail("maximum", $0) }
        switch keywords["pattern"] {
        case nil: pattern = nil
        case .string(let text)?:
            guard let expression = try? NSRegularExpression(pattern: text) else {
                throw fail("pattern", "is not a valid regular expression")
            }
            pattern = NSRegularExpressionBox(expression)
        default: throw fail("pattern", "must be a string")
        }
        switch keywords["format"] {
        case nil: isEmail = false
        case .string("email")?: isEmail = true
        default: throw fail("format", #"only "email" is supported"#)
        }
        items = try keywords["items"].map { schema throws(CompileError) in try JSONSchema(schema, pointer: pointer + "/items") }
    }

    private static let supported: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "const", "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "items", "minItems", "maxItems",
    ]

    /// The strings of an array keyword; empty when absent, `nil` when not an array of strings.
    private static func strings(_ value: JSONValue?) -> [String]? {
        guard let value else { return [] }
        guard case .array(let items) = value else { return nil }
        let names = items.compactMap { if case .string(let name) = $0 { name } else { nil } }
        return names.count == items.count ? names : nil
    }

    private static func count(_ value: JSONValue?, _ fail: (String) -> CompileError) throws(CompileError) -> Int? {
        guard let value else { return nil }
        guard case .number(let number, true) = value, number >= 0, number <= Double(Int32.max) else {
            throw fail("must be a non-negative integer")
        }
        return Int(number)
    }

    private static func bound(_ value: JSONValue?, _ fail: (String) -> CompileError) throws(CompileError) -> Double? {
        guard let value else { return nil }
        guard case .number(let number, _) = value else { throw fail("must be a number") }
        return number
    }

    /// JSON pointer escaping of one reference token (RFC 6901).
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    /// Every violation of `value`, depth first, at most `limit`.
    func violations(of value: JSONValue, limit: Int = 50) -> [Violation] {
        var found: [Violation] = []
        check(value, pointer: "", into: &found, limit: limit)
        return found
    }

    private func check(_ value: JSONValue, pointer: String, into found: inout [Violation], limit: Int) {
        func add(_ message: String) {
            if found.count < limit { found.append(Violation(pointer: pointer.isEmpty ? "/" : pointer, message: message)) }
        }
        if let types, !types.contains(where: { Self.value(value, hasType: $0) }) {
            add("must be \(types.joined(separator: " or ")), not \(value.typeName)")
            return
        }
        if let allowedValues, !allowedValues.contains(value) { add("must be one of the enumerated values") }
        if let constant, value != constant { add("must equal the constant value") }
        switch value {
        case .string(let text):
            let length = text.unicodeScalars.count
            if let minLength, length < minLength { add("must be at least \(minLength) characters") }
            if let maxLength, length > maxLength { add("must be at most \(maxLength) characters") }
            if let pattern {
                // The regular expression runs on the event loop: a bounded input bounds its time.
                if length > Self.maximumPatternInput {
                    add("must be at most \(Self.maximumPatternInput) characters to match the pattern")
                } else if !pattern.matches(text) {
                    add("must match the pattern")
                }
            }
            if isEmail, !Self.isEmail(text) { add("must be an e-mail address") }
        case .number(let number, _):
            if let minimum, number < minimum { add("must be at least \(Self.format(minimum))") }
            if let maximum, number > maximum { add("must be at most \(Self.format(maximum))") }
        case .array(let elements):
            if let minItems, elements.count < minItems { add("must have at least \(minItems) items") }
            if let maxItems, elements.count > maxItems { add("must have at most \(maxItems) items") }
            if let items {
                for (index, element) in elements.enumerated() {
                    items.check(element, pointer: "\(pointer)/\(index)", into: &found, limit: limit)
                }
            }
        case .object(let members):
            for name in required where !members.contains(where: { $0.name.isSameJSONText(name) }) {
                if found.count < limit { found.append(Violation(pointer: "\(pointer)/\(Self.escape(name))", message: "is required")) }
            }
            for member in members {
                let memberPointer = "\(pointer)/\(Self.escape(member.name))"
                if let property = properties.first(where: { $0.name.isSameJSONText(member.name) }) {
                    property.schema.check(member.value, pointer: memberPointer, into: &found, limit: limit)
                    continue
                }
                switch additionalProperties {
                case .any: break
                case .none: if found.count < limit { found.append(Violation(pointer: memberPointer, message: "is not allowed")) }
                case .schema(let schema): schema.check(member.value, pointer: memberPointer, into: &found, limit: limit)
                }
            }
        case .null, .bool:
            break
        }
    }

    private static func value(_ value: JSONValue, hasType type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number):
            true
        case ("integer", .number(let number, _)): number.rounded() == number
        default: false
        }
    }

    /// One `@`, a non-empty local part, and a domain of at least two labels; no spaces or controls.
    private static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64, text.count <= 254 else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

/// `NSRegularExpression` is immutable once made, and safe to share.
private final class NSRegularExpressionBox: @unchecked Sendable {
    let expression: NSRegularExpression
    init(_ expression: NSRegularExpression) { self.expression = expression }

    /// JSON Schema patterns are not anchored: a match anywhere counts.
    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
