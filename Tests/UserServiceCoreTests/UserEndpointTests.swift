import HTTPTypes
import HummingbirdTesting
import Testing
import UserServiceCore

@Suite("GET /users and /users/me")
struct UserEndpointTests {
    @Test("/users/me answers the user named by X-Auth-Subject", arguments: Engine.allCases)
    func meReturnsCaller(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let bob = try await client.register("bob")
            let response = try await client.send(.get, "/users/me", as: bob)

            #expect(response.status == .ok)
            let user = try response.json()
            #expect(user["username"] as? String == "bob")
            #expect(user["password_hash"] == nil)
        }
    }

    @Test("/users/me answers 401 without X-Auth-Subject", arguments: Engine.allCases)
    func meNeedsSubject(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.get, "/users/me")

            #expect(response.status == .unauthorized)
            #expect(try response.errorCode() == "unauthenticated")
        }
    }

    @Test("/users/me answers 401 for a subject that is not a user", arguments: Engine.allCases, ["42", "alice", ""])
    func meNeedsExistingUser(engine: Engine, subject: String) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice")
            let headers: HTTPFields = [HTTPField.Name("X-Auth-Subject")!: subject]
            let response = try await client.send(.get, "/users/me", headers: headers)

            #expect(response.status == .unauthorized)
        }
    }

    @Test("/users lists every user for a caller with the admin scope", arguments: Engine.allCases)
    func adminListsUsers(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            var alice = try await client.register("alice")
            try await client.register("bob")
            alice.scopes = "user admin"
            let response = try await client.send(.get, "/users", as: alice)

            #expect(response.status == .ok)
            #expect(try response.jsonArray().compactMap { $0["username"] as? String } == ["alice", "bob"])
        }
    }

    @Test("/users answers 403 to a caller without the admin scope", arguments: Engine.allCases)
    func nonAdminIsForbidden(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let response = try await client.send(.get, "/users", as: alice)

            #expect(response.status == .forbidden)
            #expect(try response.errorCode() == "forbidden")
        }
    }

    @Test("/users answers 401 to an anonymous caller, even one claiming the admin scope", arguments: Engine.allCases)
    func anonymousIsUnauthenticated(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let headers: HTTPFields = [HTTPField.Name("X-Auth-Scopes")!: "user admin"]
            let response = try await client.send(.get, "/users", headers: headers)

            #expect(response.status == .unauthorized)
        }
    }
}
