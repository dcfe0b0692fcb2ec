/// A name a certificate is chosen by (SNI): a DNS name such as `api.example.com`, or a wildcard
/// `*.example.com` that covers exactly one label under it (`a.example.com`, neither
/// `example.com` nor `a.b.example.com`), as certificate wildcards do. Kept lowercased: matching
/// is case-insensitive.
public struct ServerName: Sendable, Hashable, CustomStringConvertible {
    /// The name, lowercased, with its `*.` when a wildcard.
    public let name: String

    public var isWildcard: Bool { name.hasPrefix("*.") }

    public var description: String { name }

    static let allowed = "a DNS name such as api.example.com, or *.example.com for the names one label under it"

    /// A valid name, or `nil`.
    public init?(_ text: String) {
        guard let name = try? Self(configValue: text) else { return nil }
        self = name
    }

    /// Validates a name from the config file.
    init(configValue text: String) throws(ConfigValueProblem) {
        let name = text.lowercased()
        let host = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard name.utf8.count <= 253, labels.allSatisfy(Self.isLabel) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not a DNS name", allowed: Self.allowed)
        }
        guard let last = labels.last, !last.allSatisfy(\.isNumber) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is an IP address, which SNI never carries", allowed: Self.allowed)
        }
        if name.hasPrefix("*."), labels.count < 2 {
            throw ConfigValueProblem("\(text.quotedForConfig) would cover a whole top-level domain", allowed: Self.allowed)
        }
        self.name = name
    }

    /// Whether a certificate listing this name (a SAN entry) is valid for `host`, a lowercased name.
    func covers(_ host: String) -> Bool {
        Self.name(name, covers: host)
    }

    /// Whether `pattern` (a name, or `*.` and a name) covers `host`; both lowercased.
    static func name(_ pattern: String, covers host: String) -> Bool {
        if pattern == host { return true }
        guard pattern.hasPrefix("*."), let dot = host.firstIndex(of: "."), dot != host.startIndex else { return false }
        return host[host.index(after: dot)...] == pattern.dropFirst(2)
    }

    /// 1 to 63 letters, digits and hyphens, neither first nor last a hyphen.
    private static func isLabel(_ label: Substring) -> Bool {
        let isLabelByte = { (byte: UInt8) in byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") }
        return (1...63).contains(label.utf8.count) && label.utf8.allSatisfy(isLabelByte) && label.first != "-" && label.last != "-"
    }
}
