import Foundation
import GatewayCore
import NIOCore
import Testing

/// HTTP-01 challenges on the real redirect listener, over raw TCP so that every target reaches the
/// gateway byte for byte (no client tidies `..` or `%2e` away).
@Suite("ACME challenges on the redirect listener")
struct ACMEChallengeTests {
    /// What no challenge request may ever get back: the content of a file beside the challenge folder.
    static let secret = "not-for-the-internet"

    /// A gateway whose redirect listener serves challenges from a fresh webroot, which holds
    /// `secret` at `WEBROOT/secret` and `WEBROOT/.well-known/secret`.
    func withChallenges(_ body: (_ redirectPort: Int, _ challenges: URL) async throws -> Void) async throws {
        let webroot = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: webroot) }
        let challenges = webroot.appendingPathComponent(".well-known/acme-challenge")
        try FileManager.default.createDirectory(at: challenges, withIntermediateDirectories: true)
        try Self.secret.write(to: webroot.appendingPathComponent("secret"), atomically: true, encoding: .utf8)
        try Self.secret.write(to: webroot.appendingPathComponent(".well-known/secret"), atomically: true, encoding: .utf8)
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: ProxyingTests.routes)
            config.server.redirectHTTPListen = HostPort(host: "127.0.0.1", port: 0)
            config.server.acmeChallengeDir = webroot.path
            try await GatewayHarness.with(config) { gateway in
                try await body(try #require(gateway.addresses.redirect?.port), challenges)
            }
        }
    }

    /// The status code and the whole response of one request sent as `requestLine` (method and target).
    static func get(_ port: Int, _ requestLine: String) async throws -> (status: Int, response: String) {
        let request = "\(requestLine) HTTP/1.1\r\nHost: gw.example\r\nConnection: close\r\n\r\n"
        let response = try #require(try await RawTCPConnection.exchange(port: port, bytes: Array(request.utf8)))
        let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, response)
    }

    @Test("a challenge file is answered as text/plain with its exact content; any other request is still redirected")
    func answersChallenge() async throws {
        try await withChallenges { port, challenges in
            let keyAuthorization = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
            try keyAuthorization.write(
                to: challenges.appendingPathComponent("LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"), atomically: true, encoding: .utf8)
            let (status, response) = try await Self.get(port, "GET /.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0")
            #expect(status == 200, "\(response)")
            #expect(response.lowercased().contains("content-type: text/plain\r\n"))
            #expect(response.lowercased().contains("content-length: \(keyAuthorization.utf8.count)\r\n"))
            #expect(response.hasSuffix("\r\n\r\n" + keyAuthorization))

            let missing = try await Self.get(port, "GET /.well-known/acme-challenge/unknown-token_1")
            #expect(missing.status == 404, "\(missing.response)")
            for other in [
                "HEAD /.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0",
                "POST /.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0", "GET /users/me",
            ] {
                let answer = try await Self.get(port, other)
                #expect(answer.status == 308, "\(other): \(answer.response)")
                #expect(!answer.response.contains(keyAuthorization), "\(other)")
            }
        }
    }

    @Test(
        "traversal, encoded paths, a query, an empty token and tokens outside base64url are redirected, never read from disk",
        arguments: [
            "/.well-known/acme-challenge/../secret", "/.well-known/acme-challenge/../../secret",
            "/.well-known/acme-challenge/%2e%2e/secret", "/.well-known/acme-challenge/%2E%2E%2Fsecret",
            "/.well-known/acme-challenge/..%2f..%2fsecret", "/.well-known/acme-challenge/%2fsecret",
            "/.well-known/acme-challenge//secret", "/.well-known/acme-challenge/tok.en", "/.well-known/acme-challenge/tok%00",
            "/.well-known/acme-challenge/tok?x=1", "/.well-known/acme-challenge/", "/.well-known/acme-challenge",
            "/.well-known/acme-challenge/tok~en", "/.well-known/acme-challenge/tok+en=",
            "/.well-known/acme-challenge/" + String(repeating: "a", count: 256), "http://gw.example/.well-known/acme-challenge/token",
            "/.WELL-KNOWN/acme-challenge/token", "/x/../.well-known/acme-challenge/token",
        ])
    func refusesOtherPaths(_ target: String) async throws {
        try await withChallenges { port, challenges in
            // Files that the refused forms would name if they were read: none may come back.
            for name in ["tok.en", "tok~en", "tok+en=", "token"] {
                try Self.secret.write(to: challenges.appendingPathComponent(name), atomically: true, encoding: .utf8)
            }
            let answer = try await Self.get(port, "GET \(target)")
            #expect(answer.status == 308, "\(answer.response)")
            #expect(!answer.response.contains(Self.secret))
        }
    }

    @Test("a link, a folder, a FIFO and a file over 8 KiB in the challenge folder are 404; 8 KiB exactly is served")
    func refusesOddFiles() async throws {
        try await withChallenges { port, challenges in
            try FileManager.default.createSymbolicLink(
                atPath: challenges.appendingPathComponent("linked").path, withDestinationPath: "../../secret")
            try FileManager.default.createDirectory(at: challenges.appendingPathComponent("folder"), withIntermediateDirectories: false)
            try String(repeating: "b", count: 8 * 1024 + 1).write(
                to: challenges.appendingPathComponent("large"), atomically: true, encoding: .utf8)
            try String(repeating: "c", count: 8 * 1024).write(
                to: challenges.appendingPathComponent("bound"), atomically: true, encoding: .utf8)
            #expect(mkfifo(challenges.appendingPathComponent("fifo").path, 0o644) == 0)
            for token in ["linked", "folder", "large", "fifo"] {
                let answer = try await Self.get(port, "GET /.well-known/acme-challenge/\(token)")
                #expect(answer.status == 404, "\(token): \(answer.response)")
                #expect(!answer.response.contains(Self.secret) && !answer.response.contains("bbbb"), "\(token)")
            }
            let bound = try await Self.get(port, "GET /.well-known/acme-challenge/bound")
            #expect(bound.status == 200)
            #expect(bound.response.hasSuffix(String(repeating: "c", count: 8 * 1024)))
        }
    }

    @Test("a challenge folder that is a link is not followed, wherever it points")
    func linkedFolder() async throws {
        try await withChallenges { port, challenges in
            let elsewhere = challenges.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: false)
            try Self.secret.write(to: elsewhere.appendingPathComponent("token"), atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(at: challenges)
            try FileManager.default.createSymbolicLink(at: challenges, withDestinationURL: elsewhere)
            let answer = try await Self.get(port, "GET /.well-known/acme-challenge/token")
            #expect(answer.status == 404, "\(answer.response)")
            #expect(!answer.response.contains(Self.secret))
        }
    }

    @Test("without acme_challenge_dir a challenge path is redirected like any other")
    func offByDefault() async throws {
        try await TestUpstream.with { upstream in
            var config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: ProxyingTests.routes)
            config.server.redirectHTTPListen = HostPort(host: "127.0.0.1", port: 0)
            try await GatewayHarness.with(config) { gateway in
                let port = try #require(gateway.addresses.redirect?.port)
                let answer = try await Self.get(port, "GET /.well-known/acme-challenge/token")
                #expect(answer.status == 308)
                #expect(answer.response.contains("Location: https://gw.example:\(gateway.port)/.well-known/acme-challenge/token\r\n"))
            }
        }
    }
}

extension ACMEChallengeTests {
    @Test("a missing folder or a file as acme_challenge_dir stops the runtime's build, which start-up, reload and check-config do")
    func checksDirectory() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("file")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        var config = GatewayHarness.config(upstreams: ["test": 1], routes: ProxyingTests.routes)
        func startupError(_ path: String) -> StartupError? {
            config.server.acmeChallengeDir = path
            do {
                _ = try GatewayRuntime(config: config, environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret])
                return nil
            } catch {
                return error
            }
        }
        #expect(startupError(directory.path) == nil)
        #expect(
            startupError("/nonexistent/acme")
                == StartupError("server.acme_challenge_dir", "/nonexistent/acme does not exist (create it, readable by the gateway)"))
        #expect(startupError(file.path) == StartupError("server.acme_challenge_dir", "\(file.path) is not a directory"))
    }
}
