import Hummingbird

/// An error a client may see: an HTTP status and a JSON body with a stable snake_case `error` code,
/// a human `message` and, for input problems, a `fields` map from field name to what is wrong with it.
///
/// Messages never carry internals; anything unexpected becomes ``internalError`` after being logged.
struct APIError: Error, HTTPResponseError, Sendable {
    private enum Code: String, Sendable {
        case malformedJSON = "malformed_json"
        case invalidBody = "invalid_body"
        case unknownField = "unknown_field"
        case missingField = "missing_field"
        case invalidType = "invalid_type"
        case validationFailed = "validation_failed"
        case unsupportedMediaType = "unsupported_media_type"
        case payloadTooLarge = "payload_too_large"
        case invalidCredentials = "invalid_credentials"
        case unauthenticated
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case conflict
        case badRequest = "bad_request"
        case internalError = "internal_error"
    }

    let status: HTTPResponse.Status
    private let code: Code
    private let message: String
    private let fields: [String: String]?

    private init(_ status: HTTPResponse.Status, _ code: Code, _ message: String, fields: [String: String]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    static let malformedJSON = Self(.badRequest, .malformedJSON, "The request body is not valid JSON.")
    static let invalidBody = Self(.badRequest, .invalidBody, "The request body must be a JSON object.")
    static let unsupportedMediaType = Self(
        .unsupportedMediaType,
        .unsupportedMediaType,
        "The request body must be sent with Content-Type: application/json."
    )
    static let payloadTooLarge = Self(.contentTooLarge, .payloadTooLarge, "The request body is too large.")
    static let invalidCredentials = Self(.unauthorized, .invalidCredentials, "Invalid username or password.")
    static let unauthenticated = Self(.unauthorized, .unauthenticated, "Authentication is required.")
    static let forbidden = Self(.forbidden, .forbidden, "You are not allowed to do this.")
    static let notFound = Self(.notFound, .notFound, "Not found.")
    // swift-format-ignore: DontRepeatTypeInStaticProperties
    static let internalError = Self(.internalServerError, .internalError, "An internal error occurred.")

    /// The body has fields the endpoint does not accept.
    static func unknownFields(_ names: [String]) -> Self {
        let fields = Self.fields(names, "is not allowed")
        return Self(.badRequest, .unknownField, "The request body has unknown fields.", fields: fields)
    }

    /// A required field is absent.
    static func missingField(_ name: String) -> Self {
        Self(.badRequest, .missingField, "A required field is missing.", fields: [name: "is required"])
    }

    /// A field holds a value of the wrong JSON type, or null.
    static func invalidType(_ name: String) -> Self {
        Self(.badRequest, .invalidType, "A field has the wrong type.", fields: [name: "has the wrong type"])
    }

    /// Fields are well-typed but their values break the rules; `fields` says how.
    static func validationFailed(_ fields: [String: String]) -> Self {
        Self(.badRequest, .validationFailed, "The request has invalid fields.", fields: fields)
    }

    /// A unique value (username or email) belongs to someone else already.
    static func conflict(field: String) -> Self {
        Self(.conflict, .conflict, "The \(field) is already taken.", fields: [field: "is already taken"])
    }

    /// The JSON rendering of an error status raised by the framework rather than by this service.
    static func framework(status: HTTPResponse.Status) -> Self {
        switch status {
        case .notFound: .notFound
        case .methodNotAllowed: Self(status, .methodNotAllowed, "This method is not allowed here.")
        case .contentTooLarge: .payloadTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        default:
            status.code < 500 ? Self(status, .badRequest, "The request could not be processed.") : .internalError
        }
    }

    private static func fields(_ names: [String], _ problem: String) -> [String: String] {
        // Names come from the client: bound how much of them is echoed back.
        Dictionary(names.prefix(10).map { (String($0.prefix(64)), problem) }, uniquingKeysWith: { first, _ in first })
    }

    private struct Body: Encodable {
        let error: String
        let message: String
        let fields: [String: String]?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: self.code.rawValue, message: self.message, fields: self.fields)
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = self.status
        return response
    }
}
