import Testing

@testable import GatewayCore

@Suite("CORS origin matching")
struct OriginTests {
    static let patterns = ["https://app.example.com", "https://*.example.com", "http://localhost:3000"].map { OriginPattern($0)! }

    static func allowed(_ origin: String) -> Bool {
        guard let parsed = Origin(origin) else { return false }
        return patterns.contains { $0.matches(parsed) }
    }

    @Test(
        "matches whole origins: exact, one wildcard label, scheme, port and case",
        arguments: [
            ("https://app.example.com", true),
            ("https://APP.Example.COM", true),
            ("https://app.example.com:443", true),
            ("https://api.example.com", true),
            ("https://example.com", false),
            ("https://a.b.example.com", false),
            ("https://evil-example.com", false),
            ("https://app.example.com.evil.com", false),
            ("https://example.com.evil.com", false),
            ("https://evilexample.com", false),
            ("http://app.example.com", false),
            ("https://app.example.com:8443", false),
            ("https://app.example.com/", false),
            ("https://app.example.com/path", false),
            ("app.example.com", false),
            ("//app.example.com", false),
            ("https://user@app.example.com", false),
            ("https://app.example.com ", false),
            ("http://localhost:3000", true),
            ("http://localhost", false),
            ("null", false),
            ("", false),
        ])
    func matching(_ origin: String, _ expected: Bool) {
        #expect(Self.allowed(origin) == expected, "\(origin)")
    }

    @Test("null matches only when listed, and * matches any origin but null")
    func nullAndAny() {
        #expect(OriginPattern("null")!.matches(.null))
        #expect(!OriginPattern("*")!.matches(.null))
        #expect(OriginPattern("*")!.matches(Origin("https://anything.test")!))
        #expect(!OriginPattern("https://app.example.com")!.matches(.null))
    }

    @Test(
        "refuses config entries that are not origins",
        arguments: [
            "app.example.com", "https://app.example.com/", "https://*.com", "https://*", "ftp://x.example.com", "https://a.*.example.com",
            "",
        ])
    func badPatterns(_ text: String) {
        #expect(OriginPattern(text) == nil, "\(text)")
    }
}
