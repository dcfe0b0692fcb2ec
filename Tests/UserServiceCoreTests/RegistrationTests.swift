import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UserServiceCore

@Suite("POST /auth/register")
struct RegistrationTests {
    @Test("creates the user and answers 201 with its public fields only", arguments: Engine.allCases)
    func registers(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.postRegistration("alice", email: "alice@example.com")

            #expect(response.status == .created)
            let user = try response.json()
            #expect(Set(user.keys) == ["id", "username", "email", "role", "created_at"])
            #expect(user["username"] as? String == "alice")
            #expect(user["email"] as? String == "alice@example.com")
            #expect(user["role"] as? String == "user")
            #expect(!String(buffer: response.body).contains("$2"))
        }
    }

    @Test("names every invalid field in a 400 validation_failed", arguments: Engine.allCases)
    func reportsEachInvalidField(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.postRegistration("Al", email: "not-an-email", password: "short")

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "validation_failed")
            #expect(try Set(response.errorFields().keys) == ["username", "email", "password"])
        }
    }

    @Test(
        "refuses usernames outside 3–32 characters of [a-z0-9_.-]",
        arguments: Engine.allCases, ["ab", String(repeating: "a", count: 33), "Alice", "al ice", "al@ice", "élodie"]
    )
    func refusesBadUsernames(engine: Engine, username: String) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.postRegistration(username, email: "someone@example.com")

            #expect(response.status == .badRequest)
            #expect(try response.errorFields().keys.sorted() == ["username"])
        }
    }

    @Test(
        "refuses email addresses that fail the simple sanity check",
        arguments: Engine.allCases,
        [
            "plain", "@example.com", "a@b@example.com", "a@localhost", "a b@example.com", "a@example.", "a@.com",
        ]
    )
    func refusesBadEmails(engine: Engine, email: String) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.postRegistration("alice", email: email)

            #expect(response.status == .badRequest)
            #expect(try response.errorFields().keys.sorted() == ["email"])
        }
    }

    @Test(
        "refuses passwords shorter than 12 or longer than 128 characters, or holding NUL",
        arguments: Engine.allCases, [String(repeating: "p", count: 11), String(repeating: "p", count: 129), "twelve chars\0 and more"]
    )
    func refusesBadPasswords(engine: Engine, password: String) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.postRegistration("alice", password: password)

            #expect(response.status == .badRequest)
            #expect(try response.errorFields().keys.sorted() == ["password"])
        }
    }

    @Test("answers 409 when the username is taken", arguments: Engine.allCases)
    func refusesDuplicateUsername(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice", email: "alice@example.com")
            let response = try await client.postRegistration("alice", email: "other@example.com")

            #expect(response.status == .conflict)
            #expect(try response.errorCode() == "conflict")
            #expect(try response.errorFields().keys.sorted() == ["username"])
        }
    }

    @Test("answers 409 when the email is taken, whatever its case", arguments: Engine.allCases)
    func refusesDuplicateEmail(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            try await client.register("alice", email: "alice@example.com")
            let response = try await client.postRegistration("bob", email: "Alice@Example.com")

            #expect(response.status == .conflict)
            #expect(try response.errorFields().keys.sorted() == ["email"])
        }
    }
}
