import Foundation
import Testing

@testable import GatewayCore

@Suite("Path normaliser")
struct PathNormalizerTests {
    static let accepted: [(target: String, path: String, query: String?)] = [
        ("/", "/", nil),
        ("/users", "/users", nil),
        ("/users/", "/users/", nil),
        ("/users/me?x=1&y=2", "/users/me", "x=1&y=2"),
        ("/users/me?", "/users/me", ""),
        ("/a/./b", "/a/b", nil),
        ("/a/b/../c", "/a/c", nil),
        ("/a/b/c/../../d", "/a/d", nil),
        ("/a/..", "/", nil),
        ("/a/../", "/", nil),
        ("/./", "/", nil),
        ("//a///b", "/a/b", nil),
        ("/%7Euser", "/~user", nil),
        ("/%7euser", "/~user", nil),
        ("/%41%42c", "/ABc", nil),
        ("/a%2eb", "/a.b", nil),
        ("/a/%2e%2e/b", "/b", nil),
        ("/a/%2E/b", "/a/b", nil),
        ("/file%20name", "/file%20name", nil),
        ("/caf%c3%a9", "/caf%C3%A9", nil),
        ("/%25", "/%25", nil),
        ("/%252e%252e/x", "/%252e%252e/x", nil),
        ("/v1/users%3Asearch", "/v1/users:search", nil),
        ("/a%40b%2Bc%3Dd", "/a@b+c=d", nil),
        ("/search?q=a/../b", "/search", "q=a/../b"),
        ("/users/me?next=%2F..%2F", "/users/me", "next=%2F..%2F"),
        ("/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,=", nil),
        ("/%e2%82%ac/%F0%9F%98%80", "/%E2%82%AC/%F0%9F%98%80", nil),
        ("/%ef%bf%bf%f4%8f%bf%bf", "/%EF%BF%BF%F4%8F%BF%BF", nil),
        ("/%c3%a9%2e/x", "/%C3%A9./x", nil),
    ]

    @Test("normalises accepted targets", arguments: accepted)
    func normalises(_ example: (target: String, path: String, query: String?)) throws {
        let target = try PathNormalizer.normalize(example.target)
        #expect(target.path == example.path)
        #expect(target.query == example.query)
    }

    static let rejected: [(target: String, reason: String)] = [
        ("", "empty request target"),
        ("*", "only origin-form targets are accepted"),
        ("http://evil.example/x", "only origin-form targets are accepted"),
        ("users", "only origin-form targets are accepted"),
        ("/..", "path escapes the root"),
        ("/../etc/passwd", "path escapes the root"),
        ("/a/../../b", "path escapes the root"),
        ("/%2e%2e/x", "path escapes the root"),
        ("/.%2E/x", "path escapes the root"),
        ("/a%2Fb", "encoded slash in path"),
        ("/a%2fb", "encoded slash in path"),
        ("/a%5Cb", "encoded backslash in path"),
        ("/a%00b", "encoded NUL in path"),
        ("/a\\b", "backslash in path"),
        ("/..\\x", "backslash in path"),
        ("/a%zz", "malformed percent-escape"),
        ("/a%2", "malformed percent-escape"),
        ("/a%", "malformed percent-escape"),
        ("/a b", "forbidden character in path"),
        ("/a\tb", "forbidden character in path"),
        ("/caf\u{e9}", "forbidden character in path"),
        ("/a\"b", "forbidden character in path"),
        ("/a<b>", "forbidden character in path"),
        ("/a#frag", "forbidden character in path"),
        ("/..;/admin", "semicolon in path"),
        ("/admin;x/secret", "semicolon in path"),
        ("/admin%3bx/secret", "encoded semicolon in path"),
        ("/x?a=1#frag", "the query contains forbidden characters"),
        ("/x?a b", "the query contains forbidden characters"),
    ]

    @Test("rejects dangerous targets", arguments: rejected)
    func rejects(_ example: (target: String, reason: String)) {
        #expect(throws: PathNormalizer.Rejection(example.reason)) { try PathNormalizer.normalize(example.target) }
    }

    static let encodedControls = [
        "/x/%0d%0aInjected:%20x", "/x/%0D%0A", "/a%0Ab", "/a%09b", "/%01", "/a/%1f", "/a/%1F/b", "/a%7F", "/a%7fb",
        "/users%0d/me", "/%08", "/a/b%0c", "/%1b%5b31m",
    ]

    @Test("refuses every percent-encoded control character (C0 and DEL, either hex case) in the path", arguments: encodedControls)
    func refusesEncodedControls(_ target: String) {
        #expect(throws: PathNormalizer.Rejection("encoded control character in path")) { try PathNormalizer.normalize(target) }
    }

    @Test("refuses all 32 encoded C0 controls and DEL, and no escape of a printable character", arguments: 0...0x7F)
    func encodedASCII(_ value: Int) {
        let target = "/a" + String(format: "%%%02X", value) + "b"
        let refused = (try? PathNormalizer.normalize(target)) == nil
        let dangerous = value < 0x20 || value == 0x7F || value == 0x2F || value == 0x5C || value == 0x3B
        #expect(refused == dangerous, "\(target)")
    }

    @Test("keeps the query's encoded controls: it is forwarded as sent, never decoded")
    func queryControlsUntouched() throws {
        let target = try PathNormalizer.normalize("/search?q=a%0D%0Ab%09")
        #expect(target.path == "/search")
        #expect(target.query == "q=a%0D%0Ab%09")
    }

    static let notUTF8 = [
        "/a/%c0%ae%c0%ae/admin", "/%c0%af", "/%C0%AE", "/%e0%80%ae", "/%f0%80%80%ae", "/%c1%bf",  // overlong
        "/%ed%a0%80", "/%ed%bf%bf",  // surrogates
        "/%f4%90%80%80", "/%f5%80%80%80", "/%ff", "/%fe",  // above U+10FFFF, never UTF-8
        "/%80", "/a%bfb", "/%c3%a9%a9",  // stray continuation bytes
        "/%c3", "/%e2%82", "/%c3/x", "/%c3a", "/%e2%82%2e", "/x%f0%9f%98",  // truncated sequences
    ]

    @Test("refuses escapes that do not decode to well-formed UTF-8, which lenient decoders have read as '.' or '/'", arguments: notUTF8)
    func refusesInvalidUTF8(_ target: String) {
        #expect(throws: PathNormalizer.Rejection("percent-escapes that are not well-formed UTF-8")) { try PathNormalizer.normalize(target) }
    }

    @Test("decodes only once, so double encoding cannot smuggle a dot-segment")
    func decodesOnce() throws {
        let once = try PathNormalizer.normalize("/%252e%252e/secret")
        #expect(once.path == "/%252e%252e/secret")
        #expect(throws: PathNormalizer.Rejection.self) { try PathNormalizer.normalize(once.path.removingPercentOnce()) }
    }

    @Test("is idempotent on its own output")
    func idempotent() throws {
        for example in Self.accepted {
            let first = try PathNormalizer.normalize(example.target)
            #expect(try PathNormalizer.normalize(first.uri) == first)
        }
    }
}

extension String {
    /// `%25` → `%`: what a second, careless decoding would do.
    fileprivate func removingPercentOnce() -> String { replacingOccurrences(of: "%25", with: "%") }
}
