import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// Input checks at the edge, through the real gateway, with the schemas `gateway.conf.example` uses.
@Suite("Request validation through the gateway")
struct ValidationTests {
    static func routes() throws -> [RouteConfig] {
        let config = try ConfigLoader.parse(
            text: """
                [tls]
                certificate = "c"
                private_key = "k"
                [[upstream]]
                name = "test"
                url = "http://127.0.0.1:1"
                [[route]]
                path = "/register"
                upstream = "test"
                auth = "none"
                content_types = ["application/json"]
                max_body = "4KiB"
                schema = "schemas/register.json"
                [[route]]
                path = "/search"
                upstream = "test"
                auth = "none"
                max_query_params = 2
                required_headers = ["X-Api-Version"]
                [[route]]
                path = "/json"
                upstream = "test"
                auth = "none"
                json = true
                """,
            sourcePath: Fixtures.repositoryRoot + "/gateway.conf")
        return config.routes
    }

    func withGateway(_ body: (GatewayHarness) async throws -> Void) async throws {
        let routes = try Self.routes()
        try await TestUpstream.with { upstream in
            let config = GatewayHarness.config(upstreams: ["test": upstream.port], routes: routes)
            try await GatewayHarness.with(config, body)
        }
    }

    static let valid = #"{"username":"alice","email":"alice@example.com","password":"correct horse battery"}"#

    @Test("a body that matches the schema is forwarded whole")
    func valid() async throws {
        try await withGateway { gateway in
            let response = try await gateway.send(.POST, "/register/echo", body: Self.valid)
            #expect(response.status == .ok)
            #expect(response.json["received"] as? Int == Self.valid.utf8.count)
        }
    }

    @Test("a body that fails the schema is 400 listing every violation with its JSON pointer, audited")
    func schemaViolation() async throws {
        try await withGateway { gateway in
            let response = try await gateway.send(.POST, "/register/echo", body: #"{"username":"Al","password":"short","admin":true}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["code"] as? String == "schema_violation")
            let violations = (response.json["violations"] as? [[String: String]] ?? []).map { "\($0["pointer"]!) \($0["message"]!)" }
            #expect(
                violations == [
                    "/email is required", "/username must match the pattern", "/password must be at least 12 characters",
                    "/admin is not allowed",
                ])
            let event = try #require(try await gateway.auditEvents().first)
            #expect(event.type == .badRequest)
            #expect(event.reason == "schema: /email is required (+3 more)")
        }
    }

    @Test("malformed JSON is 400 naming the byte offset; a repeated member is refused too")
    func malformedJSON() async throws {
        try await withGateway { gateway in
            let response = try await gateway.send(.POST, "/json/echo", body: #"{"a": [1, 2,]}"#)
            #expect(response.status == .badRequest)
            #expect(response.json["code"] as? String == "invalid_json")
            #expect(
                response.json["detail"] as? String == "The request body is not acceptable JSON: unexpected character at byte offset 12.")
            let repeated = try await gateway.send(.POST, "/json/echo", body: #"{"role":"user","role":"admin"}"#)
            #expect(repeated.status == .badRequest)
            #expect(try await gateway.send(.GET, "/json/echo").status == .ok, "a request without a body is not checked")
        }
    }

    @Test("a POST without a body to a route with a schema is 400 missing_body")
    func missingBody() async throws {
        try await withGateway { gateway in
            let empty = try await gateway.send(.POST, "/register/echo", headers: ["Content-Length": "0"])
            #expect(empty.status == .badRequest)
            #expect(empty.json["code"] as? String == "missing_body")
        }
    }

    @Test("a body of another media type is 415; over the route's max_body 413")
    func mediaTypeAndSize() async throws {
        try await withGateway { gateway in
            let form = try await gateway.send(
                .POST, "/register/echo", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "a=b")
            #expect(form.status == .unsupportedMediaType)
            #expect(form.json["code"] as? String == "unsupported_media_type")
            let withCharset = try await gateway.send(
                .POST, "/register/echo", headers: ["Content-Type": "Application/JSON; charset=utf-8"], body: Self.valid)
            #expect(withCharset.status == .ok)
            let large = try await gateway.send(.POST, "/register/echo", body: String(repeating: " ", count: 5_000) + Self.valid)
            #expect(large.status == .payloadTooLarge)
        }
    }

    @Test("too many query parameters or a missing required header is 400")
    func queryAndHeaders() async throws {
        try await withGateway { gateway in
            #expect(try await gateway.send("/search/echo?a=1&b=2", headers: ["X-Api-Version": "1"]).status == .ok)
            let tooMany = try await gateway.send("/search/echo?a=1&b=2&c=3", headers: ["X-Api-Version": "1"])
            #expect(tooMany.json["code"] as? String == "too_many_query_params")
            let missing = try await gateway.send("/search/echo")
            #expect(missing.status == .badRequest)
            #expect(missing.json["code"] as? String == "missing_header")
        }
    }

    @Test("random JSON-ish bodies never crash the gateway nor get a 5xx")
    func randomBodies() async throws {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "{", "}", "[", "]", ":", ",", "\"", "\\", "\"username\"", "\"a\"", "1", "-0.5e3", "true", "null", " ", "\\u00e9", "\\ud800",
            "é",
        ]
        try await withGateway { gateway in
            for _ in 0..<300 {
                let body = (0..<Int.random(in: 1...40, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
                let path = Bool.random(using: &generator) ? "/register/echo" : "/json/echo"
                let response = try await gateway.send(.POST, path, body: body)
                #expect([200, 400].contains(response.status.code), "\(response.status) for \(body)")
            }
            #expect(try await gateway.send(.POST, "/register/echo", body: Self.valid).status == .ok)
        }
    }
}
