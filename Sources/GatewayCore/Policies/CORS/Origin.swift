/// A serialized web origin as a browser sends it in `Origin`: `scheme://host[:port]`, lower-cased,
/// the scheme's default port left out. `null` (opaque origins: sandboxed frames, files) is its own value.
public struct Origin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    /// `nil` for the scheme's default port.
    public let port: Int?

    /// The opaque origin a browser sends as `null`.
    public static let null = Origin(scheme: "", host: "null", port: nil)

    private init(scheme: String, host: String, port: Int?) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// Parses an `Origin` value; `nil` for anything that is not exactly one http(s) origin (a path,
    /// a trailing slash, user info, spaces, a bad port).
    public init?(_ text: some StringProtocol) {
        if text == "null" {
            self = .null
            return
        }
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") {
            scheme = "https"
        } else if lowered.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        let authority = lowered.dropFirst(scheme.count + 3)
        var host = Substring(authority)
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits),
                (1...65_535).contains(number)
            else { return nil }
            host = authority[..<colon]
            port = number == (scheme == "https" ? 443 : 80) ? nil : number
        }
        guard Self.isHost(host) else { return nil }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// A DNS name or IPv4 address (letters, digits, `-` and `.`, no empty label), or a bracketed IPv6 literal.
    private static func isHost(_ host: Substring) -> Bool {
        if host.hasPrefix("[") {
            return host.hasSuffix("]") && host.count > 2
                && host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !host.isEmpty && host.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }
            }
    }

    public var description: String {
        self == .null ? "null" : "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }
}

/// An entry of `allowed_origins`: an exact origin, `null`, `*` (any origin, never with
/// credentials), or one leading wildcard label, `https://*.example.com`, which matches exactly one
/// label in its place (`https://app.example.com`, not `https://example.com` nor `https://a.b.example.com`).
/// Matching compares whole parsed origins: no regular expression, no substring.
public struct OriginPattern: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case any
        case exact(Origin)
        /// Scheme and port as for an exact origin; the host is one label followed by `suffix` (which starts with `.`).
        case oneLabel(scheme: String, suffix: String, port: Int?)
    }

    let kind: Kind
    public let description: String

    /// Parses a config entry; `nil` when it is none of the accepted forms.
    public init?(_ text: String) {
        description = text
        if text == "*" {
            kind = .any
        } else if let schemeEnd = text.firstRange(of: "://*.") {
            // Parse it as an origin with a placeholder label, then keep everything after that label.
            let sampleText = text[..<schemeEnd.lowerBound] + "://wildcard." + text[schemeEnd.upperBound...]
            guard let sample = Origin(sampleText), !sample.host.hasPrefix("["),
                let dot = sample.host.firstIndex(of: "."), sample.host[dot...].dropFirst().contains(".")
            else { return nil }
            kind = .oneLabel(scheme: sample.scheme, suffix: String(sample.host[dot...]), port: sample.port)
        } else {
            guard let origin = Origin(text) else { return nil }
            kind = .exact(origin)
        }
    }

    /// Whether `origin` is allowed by this entry.
    func matches(_ origin: Origin) -> Bool {
        switch kind {
        case .any:
            return origin != .null
        case .exact(let allowed):
            return origin == allowed
        case .oneLabel(let scheme, let suffix, let port):
            guard origin.scheme == scheme, origin.port == port, origin.host.hasSuffix(suffix) else { return false }
            let label = origin.host.dropLast(suffix.count)
            return !label.isEmpty && !label.contains(".")
        }
    }

    /// Whether the entry admits a page served over plain `http`.
    var isInsecure: Bool {
        switch kind {
        case .any: false
        case .exact(let origin): origin.scheme == "http"
        case .oneLabel(let scheme, _, _): scheme == "http"
        }
    }

    var isAny: Bool { kind == .any }

    var isNull: Bool { kind == .exact(.null) }
}
