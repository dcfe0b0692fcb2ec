import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import Testing
import UserServiceCore

@Suite("POST /auth/login")
struct LoginTests {
    @Test("issues a bearer token that expires after the configured lifetime", arguments: Engine.allCases)
    func issuesBearerToken(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let response = try await client.login("alice")

            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == 24 * 60 * 60)
            #expect(body["access_token"] is String)
        }
    }

    @Test("signs an HS256 token with sub, iat, exp, iss, aud, jti and scope", arguments: Engine.allCases)
    func tokenCarriesClaims(engine: Engine) async throws {
        let configuration = try await TestService.configuration(engine, issuer: "userservice", audience: "gateway")
        try await TestService.withClient(configuration) { client in
            let alice = try await client.register("alice")
            let token = try #require(try await client.login("alice").json()["access_token"] as? String)
            let claims = try await TestTokens.verify(token)

            #expect(claims.sub.value == String(alice.id))
            #expect(claims.exp.value.timeIntervalSince(claims.iat.value) == 24 * 60 * 60)
            #expect(claims.iss?.value == "userservice")
            #expect(claims.aud?.value == ["gateway"])
            #expect(UUID(uuidString: claims.jti.value) != nil)
            #expect(claims.scope == "user")
        }
    }

    @Test("leaves out iss and aud when they are not configured", arguments: Engine.allCases)
    func omitsUnconfiguredClaims(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let token = try #require(try await client.login("alice").json()["access_token"] as? String)
            let claims = try await TestTokens.verify(token)

            #expect(claims.iss == nil)
            #expect(claims.aud == nil)
        }
    }

    @Test("gives every token its own jti", arguments: Engine.allCases)
    func uniqueTokenIDs(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let first = try #require(try await client.login("alice").json()["access_token"] as? String)
            let second = try #require(try await client.login("alice").json()["access_token"] as? String)

            #expect(try await TestTokens.verify(first).jti != TestTokens.verify(second).jti)
        }
    }

    @Test("answers a wrong password and an unknown user with the same 401 body", arguments: Engine.allCases)
    func identicalFailures(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let wrongPassword = try await client.login("alice", password: "not the right password")
            let unknownUser = try await client.login("mallory")

            #expect(wrongPassword.status == .unauthorized)
            #expect(unknownUser.status == .unauthorized)
            #expect(wrongPassword.body == unknownUser.body)
            #expect(try wrongPassword.errorCode() == "invalid_credentials")
        }
    }
}
