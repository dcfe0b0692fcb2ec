import HTTPTypes
import HummingbirdTesting
import Testing
import UserServiceCore

@Suite("/resources")
struct ResourceTests {
    static let note = #"{"name":"note","content":"hello"}"#

    /// Creates a resource for `caller` and returns its id.
    static func create(_ client: any TestClientProtocol, as caller: Caller, json: String = note) async throws -> Int {
        let response = try await client.send(.post, "/resources", json: json, as: caller)
        guard response.status == .created, let id = try response.json()["id"] as? Int else {
            throw TestFailure("creating a resource answered \(response.status)")
        }
        return id
    }

    @Test("POST creates a resource owned by the caller and answers 201", arguments: Engine.allCases)
    func creates(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let response = try await client.send(.post, "/resources", json: Self.note, as: alice)

            #expect(response.status == .created)
            let resource = try response.json()
            #expect(resource["name"] as? String == "note")
            #expect(resource["content"] as? String == "hello")
            #expect(resource["owner_id"] as? Int == Int(alice.id))
            #expect(resource["created_at"] is String)
        }
    }

    @Test("GET /resources lists only the caller's resources, newest first", arguments: Engine.allCases)
    func listsOwnNewestFirst(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let bob = try await client.register("bob")
            _ = try await Self.create(client, as: alice, json: #"{"name":"first","content":""}"#)
            _ = try await Self.create(client, as: bob, json: #"{"name":"bob's","content":""}"#)
            _ = try await Self.create(client, as: alice, json: #"{"name":"second","content":""}"#)
            let response = try await client.send(.get, "/resources", as: alice)

            #expect(response.status == .ok)
            #expect(try response.jsonArray().compactMap { $0["name"] as? String } == ["second", "first"])
        }
    }

    @Test("GET /resources/{id} answers the owner's resource", arguments: Engine.allCases)
    func showsOwn(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let id = try await Self.create(client, as: alice)
            let response = try await client.send(.get, "/resources/\(id)", as: alice)

            #expect(response.status == .ok)
            #expect(try response.json()["id"] as? Int == id)
        }
    }

    @Test("PUT replaces name and content and answers 200", arguments: Engine.allCases)
    func replaces(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let id = try await Self.create(client, as: alice)
            let json = #"{"name":"renamed","content":"new"}"#
            let response = try await client.send(.put, "/resources/\(id)", json: json, as: alice)

            #expect(response.status == .ok)
            let fetched = try await client.send(.get, "/resources/\(id)", as: alice).json()
            #expect(fetched["name"] as? String == "renamed")
            #expect(fetched["content"] as? String == "new")
        }
    }

    @Test("DELETE removes the resource and answers 204", arguments: Engine.allCases)
    func deletes(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let id = try await Self.create(client, as: alice)
            let response = try await client.send(.delete, "/resources/\(id)", as: alice)

            #expect(response.status == .noContent)
            #expect(try await client.send(.get, "/resources/\(id)", as: alice).status == .notFound)
        }
    }

    @Test(
        "another user's resource answers 404, exactly like a missing one",
        arguments: Engine.allCases, [HTTPRequest.Method.get, .put, .delete]
    )
    func hidesOtherUsersResources(engine: Engine, method: HTTPRequest.Method) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let bob = try await client.register("bob")
            let id = try await Self.create(client, as: alice)
            let json = method == .put ? Self.note : nil
            let foreign = try await client.send(method, "/resources/\(id)", json: json, as: bob)
            let missing = try await client.send(method, "/resources/999999", json: json, as: bob)

            #expect(foreign.status == .notFound)
            #expect(foreign.body == missing.body)
            #expect(try await client.send(.get, "/resources/\(id)", as: alice).status == .ok)
        }
    }

    @Test("answers 404 for an id that is not a number", arguments: Engine.allCases)
    func nonNumericID(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")

            #expect(try await client.send(.get, "/resources/abc", as: alice).status == .notFound)
        }
    }

    @Test("refuses an empty or over-long name and content over 16 KiB", arguments: Engine.allCases)
    func validatesFields(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let longName = String(repeating: "n", count: 201)
            let bigContent = String(repeating: "c", count: 16 * 1024 + 1)
            let tooLong = try JSONObject.encode(["name": longName, "content": bigContent])
            let empty = try JSONObject.encode(["name": "", "content": ""])

            let tooLongResponse = try await client.send(.post, "/resources", json: tooLong, as: alice)
            let emptyResponse = try await client.send(.post, "/resources", json: empty, as: alice)

            #expect(tooLongResponse.status == .badRequest)
            #expect(try Set(tooLongResponse.errorFields().keys) == ["name", "content"])
            #expect(emptyResponse.status == .badRequest)
            #expect(try emptyResponse.errorFields().keys.sorted() == ["name"])
        }
    }

    @Test("accepts content of exactly 16 KiB", arguments: Engine.allCases)
    func acceptsMaximumContent(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let alice = try await client.register("alice")
            let body = try JSONObject.encode(["name": "big", "content": String(repeating: "c", count: 16 * 1024)])

            #expect(try await client.send(.post, "/resources", json: body, as: alice).status == .created)
        }
    }

    @Test("answers 401 without an identity", arguments: Engine.allCases)
    func needsIdentity(engine: Engine) async throws {
        try await TestService.withClient(engine) { client in
            let list = try await client.send(.get, "/resources")
            let create = try await client.send(.post, "/resources", json: Self.note)

            #expect(list.status == .unauthorized)
            #expect(create.status == .unauthorized)
        }
    }
}
