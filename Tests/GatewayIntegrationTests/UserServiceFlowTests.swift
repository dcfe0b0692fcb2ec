import Foundation
import GatewayCore
import NIOHTTP1
import Testing

/// The bundled userservice behind the real gateway, over real TLS: the README's walkthrough as a test.
@Suite("User service through the gateway")
struct UserServiceFlowTests {
    static let routes = [
        RouteConfig(path: "/auth", methods: ["POST"], upstream: "users", auth: .none),
        RouteConfig(path: "/health", methods: ["GET"], upstream: "users", auth: .none),
        RouteConfig(path: "/users", upstream: "users"),
        RouteConfig(path: "/resources", upstream: "users"),
    ]

    func withStack(_ body: (GatewayHarness) async throws -> Void) async throws {
        try await UserServiceHarness.with { port in
            try await GatewayHarness.with(GatewayHarness.config(upstreams: ["users": port], routes: Self.routes), body)
        }
    }

    func register(_ gateway: GatewayHarness, _ name: String) async throws -> String {
        let created = try await gateway.send(
            .POST, "/auth/register", body: #"{"username":"\#(name)","email":"\#(name)@example.com","password":"correct horse battery"}"#)
        #expect(created.status == .created)
        let login = try await gateway.send(.POST, "/auth/login", body: #"{"username":"\#(name)","password":"correct horse battery"}"#)
        #expect(login.status == .ok)
        return try #require(login.json["access_token"] as? String)
    }

    @Test("register, log in, read yourself, and run resources CRUD")
    func walkthrough() async throws {
        try await withStack { gateway in
            #expect(try await gateway.send("/health").status == .ok)
            let token = try await register(gateway, "alice")
            let me = try await gateway.send("/users/me", token: token)
            #expect(me.status == .ok)
            #expect(me.json["username"] as? String == "alice")
            #expect(me.json["password_hash"] == nil)

            let created = try await gateway.send(.POST, "/resources", body: #"{"name":"notes","content":"hello"}"#, token: token)
            #expect(created.status == .created)
            let id = try #require(created.json["id"])
            let listed = try await gateway.send("/resources", token: token)
            #expect(listed.status == .ok)
            #expect(listed.body.contains("notes"))
            let updated = try await gateway.send(.PUT, "/resources/\(id)", body: #"{"name":"notes","content":"changed"}"#, token: token)
            #expect(updated.status == .ok)
            #expect(try await gateway.send("/resources/\(id)", token: token).json["content"] as? String == "changed")
            #expect(try await gateway.send(.DELETE, "/resources/\(id)", token: token).status == .noContent)
            #expect(try await gateway.send("/resources/\(id)", token: token).status == .notFound)
        }
    }

    @Test("another user's resource is 404")
    func otherUsersResource() async throws {
        try await withStack { gateway in
            let alice = try await register(gateway, "alice")
            let bob = try await register(gateway, "bob")
            let created = try await gateway.send(.POST, "/resources", body: #"{"name":"private","content":"x"}"#, token: alice)
            let id = try #require(created.json["id"])
            #expect(try await gateway.send("/resources/\(id)", token: bob).status == .notFound)
            #expect(try await gateway.send(.DELETE, "/resources/\(id)", token: bob).status == .notFound)
            #expect(try await gateway.send("/resources/\(id)", token: alice).status == .ok)
        }
    }

    @Test("a missing token is 401 with a Bearer challenge")
    func missingToken() async throws {
        try await withStack { gateway in
            let response = try await gateway.send("/users/me")
            #expect(response.status == .unauthorized)
            #expect(response.headers["www-authenticate"] == ["Bearer"])
            #expect(response.json["code"] as? String == "auth_required")
        }
    }

    @Test("a forged X-Auth-Subject without a token does not authenticate")
    func forgedIdentity() async throws {
        try await withStack { gateway in
            _ = try await register(gateway, "alice")
            let response = try await gateway.send("/users/me", headers: ["X-Auth-Subject": "1"])
            #expect(response.status == .unauthorized)
        }
    }

    @Test("a bad token is 401 invalid_token")
    func badToken() async throws {
        try await withStack { gateway in
            let token = try await register(gateway, "alice")
            let tampered = String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA")
            let response = try await gateway.send("/users/me", token: tampered)
            #expect(response.status == .unauthorized)
            #expect(response.headers["www-authenticate"] == [#"Bearer error="invalid_token""#])
            #expect(response.json["detail"] as? String == "The bearer token was rejected: signature invalid.")
        }
    }

    @Test("an expired token is 401 token expired")
    func expiredToken() async throws {
        try await withStack { gateway in
            let now = Date().timeIntervalSince1970
            let token = IntegrationTokens.hs256(
                ["sub": "1", "iss": "userservice", "aud": "gateway", "iat": Int(now) - 7200, "exp": Int(now) - 3600])
            let response = try await gateway.send("/users/me", token: token)
            #expect(response.status == .unauthorized)
            #expect(response.json["detail"] as? String == "The bearer token was rejected: token expired.")
        }
    }
}
