import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// The identity headers the gateway would set for a verified token.
struct Caller: Sendable {
    let id: Int64
    var scopes = "user"

    var headers: HTTPFields {
        [HTTPField.Name("X-Auth-Subject")!: String(self.id), HTTPField.Name("X-Auth-Scopes")!: self.scopes]
    }
}

extension TestClientProtocol {
    /// Sends a request with a JSON body (or none), as `caller` if given.
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        json: String? = nil,
        contentType: String? = "application/json",
        as caller: Caller? = nil,
        headers extraHeaders: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = caller?.headers ?? [:]
        if json != nil, let contentType { headers[.contentType] = contentType }
        headers.append(contentsOf: extraHeaders)
        let body = json.map { ByteBuffer(string: $0) }
        return try await self.execute(uri: uri, method: method, headers: headers, body: body)
    }

    /// Posts a registration; the email defaults to one derived from the username.
    func postRegistration(
        _ username: String,
        email: String? = nil,
        password: String = TestService.strongPassword
    ) async throws -> TestResponse {
        let email = email ?? "\(username)@example.com"
        let body = try JSONObject.encode(["username": username, "email": email, "password": password])
        return try await self.send(.post, "/auth/register", json: body)
    }

    /// Registers a user and returns the caller it becomes.
    @discardableResult
    func register(_ username: String, email: String? = nil) async throws -> Caller {
        let response = try await self.postRegistration(username, email: email)
        guard response.status == .created, let id = try response.json()["id"] as? Int else {
            throw TestFailure("registration of \(username) answered \(response.status)")
        }
        return Caller(id: Int64(id))
    }

    /// Logs in and returns the response.
    func login(_ username: String, password: String = TestService.strongPassword) async throws -> TestResponse {
        let body = try JSONObject.encode(["username": username, "password": password])
        return try await self.send(.post, "/auth/login", json: body)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(self.body.readableBytesView)) as? [String: Any]
        else {
            throw TestFailure("the body is not a JSON object")
        }
        return object
    }

    /// The body as a JSON array of objects.
    func jsonArray() throws -> [[String: Any]] {
        let value = try JSONSerialization.jsonObject(with: Data(self.body.readableBytesView))
        guard let array = value as? [[String: Any]] else {
            throw TestFailure("the body is not a JSON array of objects")
        }
        return array
    }

    /// The `error` code of a JSON error body.
    func errorCode() throws -> String? {
        try self.json()["error"] as? String
    }

    /// The `fields` map of a JSON error body.
    func errorFields() throws -> [String: String] {
        try self.json()["fields"] as? [String: String] ?? [:]
    }
}

enum JSONObject {
    /// JSON text for a dictionary of values.
    static func encode(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
