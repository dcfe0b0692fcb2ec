import HTTPTypes
import HummingbirdTesting
import Testing
import UserServiceCore

@Suite("Strict JSON request bodies")
struct RequestBodyTests {
    static let login = #"{"username":"alice","password":"correct horse battery"}"#

    @Test("refuses an unknown field with 400 unknown_field naming it", arguments: Engine.allCases)
    func unknownField(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let body = #"{"username":"al","email":"al@example.com","password":"correct horse battery","role":"admin"}"#
            let response = try await client.send(.post, "/auth/register", json: body)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "unknown_field")
            #expect(try response.errorFields() == ["role": "is not allowed"])
        }
    }

    @Test("refuses a field of the wrong type with 400 invalid_type naming it", arguments: Engine.allCases)
    func wrongType(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let body = #"{"username":"alice","password":123456789012345}"#
            let response = try await client.send(.post, "/auth/login", json: body)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "invalid_type")
            #expect(try response.errorFields().keys.sorted() == ["password"])
        }
    }

    @Test("refuses a null field with 400 invalid_type", arguments: Engine.allCases)
    func nullField(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.post, "/auth/login", json: #"{"username":"alice","password":null}"#)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "invalid_type")
        }
    }

    @Test("refuses a missing field with 400 missing_field naming it", arguments: Engine.allCases)
    func missingField(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.post, "/auth/login", json: #"{"username":"alice"}"#)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "missing_field")
            #expect(try response.errorFields() == ["password": "is required"])
        }
    }

    @Test("refuses malformed JSON with 400 malformed_json", arguments: Engine.allCases)
    func malformed(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.post, "/auth/login", json: #"{"username": "alice", "#)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "malformed_json")
        }
    }

    @Test("refuses JSON that is not an object with 400 invalid_body", arguments: Engine.allCases)
    func notAnObject(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.post, "/auth/login", json: #"["alice"]"#)

            #expect(response.status == .badRequest)
            #expect(try response.errorCode() == "invalid_body")
        }
    }

    @Test("refuses a body without Content-Type: application/json with 415", arguments: Engine.allCases, [nil, "text/plain"])
    func unsupportedMediaType(engine: Engine, contentType: String?) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.post, "/auth/login", json: Self.login, contentType: contentType)

            #expect(response.status == .unsupportedMediaType)
            #expect(try response.errorCode() == "unsupported_media_type")
        }
    }

    @Test("accepts application/json with a charset parameter", arguments: Engine.allCases)
    func acceptsCharset(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let contentType = "application/json; charset=utf-8"
            let response = try await client.send(.post, "/auth/login", json: Self.login, contentType: contentType)

            #expect(response.status == .unauthorized)
        }
    }

    @Test("refuses a body over 64 KiB with 413", arguments: Engine.allCases)
    func tooLarge(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let padding = String(repeating: "a", count: 64 * 1024)
            let json = #"{"username":"\#(padding)","password":"x"}"#
            let response = try await client.send(.post, "/auth/login", json: json)

            #expect(response.status == .contentTooLarge)
            #expect(try response.errorCode() == "payload_too_large")
        }
    }

    @Test("answers an unknown route with a JSON 404", arguments: Engine.allCases)
    func unknownRoute(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let response = try await client.send(.get, "/nowhere")

            #expect(response.status == .notFound)
            #expect(try response.errorCode() == "not_found")
        }
    }
}
