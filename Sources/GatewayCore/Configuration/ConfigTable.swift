import TOMLKit

/// The keys one table of the config file accepts, as an enum whose raw values are the TOML
/// names. Adding a key to the file format starts with adding a case.
protocol ConfigKeys: RawRepresentable<String>, CaseIterable {
    /// Where secrets go instead, if an unknown key that looks like an inline secret deserves a
    /// message saying so rather than a plain "unknown key".
    static var secretsHint: String? { get }
}

extension ConfigKeys {
    static var secretsHint: String? { nil }
}

/// Typed, problem-reporting access to one TOML table of the config file.
///
/// Creating one reports every key the table does not accept. Each accessor returns the value
/// when present and valid; otherwise it reports why (wrong type, unacceptable value, or
/// missing though required) and returns `nil`, so the caller falls back to a default and
/// decoding carries on to find the next problem.
struct ConfigTable<Key: ConfigKeys> {
    private let table: TOMLTable
    /// Key path of the table itself: `""` for the root, `server`, `route[2]`.
    let path: String
    let context: ConfigContext
    /// False for the stand-in of a table that had the wrong type: its keys are not missing.
    private let reportsMissingKeys: Bool

    init(_ table: TOMLTable, path: String, context: ConfigContext, reportsMissingKeys: Bool = true) {
        self.init(table, path: path, context: context, reportsMissingKeys: reportsMissingKeys, reportsUnknownKeys: true)
    }

    private init(_ table: TOMLTable, path: String, context: ConfigContext, reportsMissingKeys: Bool, reportsUnknownKeys: Bool) {
        self.table = table
        self.path = path
        self.context = context
        self.reportsMissingKeys = reportsMissingKeys
        if reportsUnknownKeys { reportUnknownKeys() }
    }

    /// The same table read through a subset of its keys, e.g. the issuer keys a lone issuer sets in
    /// `[jwt]` itself. Unknown keys were reported by this table already.
    func narrowed<Subset: ConfigKeys>(to _: Subset.Type) -> ConfigTable<Subset> {
        ConfigTable<Subset>(table, path: path, context: context, reportsMissingKeys: reportsMissingKeys, reportsUnknownKeys: false)
    }

    func keyPath(_ key: Key) -> String {
        path.isEmpty ? key.rawValue : "\(path).\(key.rawValue)"
    }

    func elementPath(_ key: Key, _ index: Int) -> String {
        "\(keyPath(key))[\(index)]"
    }

    func report(_ key: Key, _ message: String, allowed: String? = nil) {
        context.report(keyPath(key), message, allowed: allowed)
    }

    func report(_ key: Key, _ problem: ConfigValueProblem) {
        context.report(keyPath(key), problem)
    }

    func contains(_ key: Key) -> Bool {
        table[key.rawValue] != nil
    }

    // MARK: Scalars

    /// A string that must not be empty.
    func nonEmptyString(_ key: Key, required: Bool = false) -> String? {
        parsed(key, required: required) { text throws(ConfigValueProblem) in
            guard !text.isEmpty else { throw ConfigValueProblem("must not be empty") }
            return text
        }
    }

    func bool(_ key: Key) -> Bool? {
        value(key, expected: "a boolean", required: false) { $0.bool }
    }

    func int(_ key: Key, in range: ClosedRange<Int>) -> Int? {
        guard let number = value(key, expected: "an integer", required: false, { $0.int }) else { return nil }
        guard range.contains(number) else {
            report(key, "\(number) is out of range", allowed: Self.describe(range))
            return nil
        }
        return number
    }

    /// A duration string such as `"30s"`, optionally capped.
    func duration(_ key: Key, atMost limit: Duration? = nil) -> Duration? {
        let format = Duration.configFormat
        return parsed(key, expected: "a duration string", allowed: format) { text throws(ConfigValueProblem) in
            guard let duration = Duration(configValue: text) else {
                throw ConfigValueProblem("invalid duration \(text.quotedForConfig)", allowed: format)
            }
            if let limit, duration > limit {
                throw ConfigValueProblem("\(text) is too long", allowed: "up to \(limit.configDescription)")
            }
            return duration
        }
    }

    /// A size string such as `"16KiB"` within `range`.
    func byteSize(_ key: Key, in range: ClosedRange<ByteSize>) -> ByteSize? {
        let format = ByteSize.configFormat
        return parsed(key, expected: "a size string", allowed: format) { text throws(ConfigValueProblem) in
            guard let size = ByteSize(configValue: text) else {
                throw ConfigValueProblem("invalid size \(text.quotedForConfig)", allowed: format)
            }
            guard range.contains(size) else {
                throw ConfigValueProblem("\(text) is out of range", allowed: Self.describe(range))
            }
            return size
        }
    }

    /// One of the raw values of `Choice`.
    func choice<Choice: RawRepresentable<String> & CaseIterable>(_ key: Key) -> Choice? {
        parsed(key) { text throws(ConfigValueProblem) in
            guard let choice = Choice(rawValue: text) else {
                throw ConfigValueProblem(
                    "unsupported value \(text.quotedForConfig)",
                    allowed: Choice.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            return choice
        }
    }

    /// A non-empty file path, made absolute against the config file's directory.
    func filePath(_ key: Key, required: Bool = false) -> String? {
        nonEmptyString(key, required: required).map { ConfigPath.resolve($0, against: context.directory) }
    }

    /// A string turned into a value by `parse`, whose problem is reported at the key.
    func parsed<Value>(
        _ key: Key,
        required: Bool = false,
        expected: String = "a string",
        allowed: String? = nil,
        _ parse: (String) throws(ConfigValueProblem) -> Value
    ) -> Value? {
        guard let text = value(key, expected: expected, allowed: allowed, required: required, { $0.string }) else {
            return nil
        }
        do {
            return try parse(text)
        } catch {
            report(key, error)
            return nil
        }
    }

    // MARK: Arrays and tables

    /// An array of strings, each turned into a value by `parse`; a problem with an element is
    /// reported at that element's path. `nil` if absent or if any element is unacceptable.
    func array<Element>(_ key: Key, _ parse: (String) throws(ConfigValueProblem) -> Element) -> [Element]? {
        guard let array = value(key, expected: "an array", required: false, { $0.array }) else { return nil }
        var elements: [Element] = []
        for (index, item) in array.enumerated() {
            let elementPath = elementPath(key, index)
            guard let text = item.string else {
                context.report(elementPath, "expected a string, found \(Self.describe(item.type))")
                continue
            }
            do {
                elements.append(try parse(text))
            } catch {
                context.report(elementPath, error)
            }
        }
        return elements.count == array.count ? elements : nil
    }

    /// An array whose elements are each a string or an inline table, e.g.
    /// `["50/hour", { rate = "10/minute", key = "ip" }]`. Strings go to `parse`, tables to `decode`
    /// (which reports its own problems and returns `nil` for a bad one). `nil` if absent or if any
    /// element is unacceptable.
    func array<Element, EntryKey>(
        _ key: Key, _ parse: (String) throws(ConfigValueProblem) -> Element, or _: EntryKey.Type,
        _ decode: (ConfigTable<EntryKey>) -> Element?
    ) -> [Element]? {
        guard let array = value(key, expected: "an array", required: false, { $0.array }) else { return nil }
        var elements: [Element] = []
        for (index, item) in array.enumerated() {
            let elementPath = elementPath(key, index)
            if let table = item.table {
                if let element = decode(ConfigTable<EntryKey>(table, path: elementPath, context: context)) { elements.append(element) }
            } else if let text = item.string {
                do {
                    elements.append(try parse(text))
                } catch {
                    context.report(elementPath, error)
                }
            } else {
                context.report(elementPath, "expected a string or an inline table, found \(Self.describe(item.type))")
            }
        }
        return elements.count == array.count ? elements : nil
    }

    /// The sub-table at `key`; an empty one when absent, so that its required keys are
    /// reported as missing, or when not a table (reported once, its keys are not).
    func section<SectionKey>(_ key: Key) -> ConfigTable<SectionKey> {
        let table = value(key, expected: "a table", required: false) { $0.table }
        return ConfigTable<SectionKey>(
            table ?? TOMLTable(),
            path: keyPath(key),
            context: context,
            reportsMissingKeys: table != nil || !contains(key)
        )
    }

    /// The entries of an array of tables (`[[key]]`), of which there must be at least one when `required`.
    func entries<EntryKey>(_ key: Key, keys _: EntryKey.Type, required: Bool = true) -> [ConfigTable<EntryKey>] {
        let name = path.isEmpty ? key.rawValue : keyPath(key)
        let expected = "an array of tables ([[\(name)]])"
        guard let array = value(key, expected: expected, required: false, { $0.array }) else {
            if required, !contains(key) { report(key, "at least one [[\(name)]] is required") }
            return []
        }
        if array.isEmpty { report(key, "at least one [[\(name)]] is required") }
        return array.enumerated().compactMap { index, item in
            guard let table = item.table else {
                context.report(elementPath(key, index), "expected a table, found \(Self.describe(item.type))")
                return nil
            }
            return ConfigTable<EntryKey>(table, path: elementPath(key, index), context: context)
        }
    }

    // MARK: Helpers

    private func value<Value>(
        _ key: Key,
        expected: String,
        allowed: String? = nil,
        required: Bool,
        _ extract: (any TOMLValueConvertible) -> Value?
    ) -> Value? {
        guard let item = table[key.rawValue] else {
            if required && reportsMissingKeys { report(key, "missing required key") }
            return nil
        }
        guard let value = extract(item) else {
            report(key, "expected \(expected), found \(Self.describe(item.type))", allowed: allowed)
            return nil
        }
        return value
    }

    private func reportUnknownKeys() {
        for name in table.keys where Key(rawValue: name) == nil {
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if let hint = Key.secretsHint, Self.looksLikeSecret(name) {
                context.report(keyPath, "secrets never come from the config file", allowed: hint)
            } else {
                context.report(keyPath, "unknown key", allowed: Key.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
    }

    private static func looksLikeSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["secret", "key", "password", "passwd", "token", "credential"].contains { lowered.contains($0) }
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? "\(range.lowerBound) or more" : "\(range.lowerBound)..\(range.upperBound)"
    }

    private static func describe(_ range: ClosedRange<ByteSize>) -> String {
        range.upperBound.bytes == .max ? "\(range.lowerBound) or more" : "\(range.lowerBound)..\(range.upperBound)"
    }

    private static func describe(_ type: TOMLType) -> String {
        switch type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }
}
