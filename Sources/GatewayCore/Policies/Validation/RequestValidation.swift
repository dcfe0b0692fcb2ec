import NIOCore
import NIOHTTP1

/// A route's input checks, compiled once: those of the head at admission, those of the body once
/// it is held whole.
struct RequestValidation: Sendable {
    let config: ValidationConfig
    /// The route's body limit: its own `max_body`, else the server's; at most
    /// ``ValidationConfig/maximumHeldBody`` on a route that holds bodies whole.
    let maxBodyBytes: Int64

    /// `heldWhole` when the route holds its bodies before forwarding (to check them, or to buffer them).
    init(_ config: ValidationConfig, serverMaxBodyBytes: Int64, heldWhole: Bool) {
        self.config = config
        let limit = config.maxBodyBytes ?? serverMaxBodyBytes
        self.maxBodyBytes = heldWhole ? min(limit, ValidationConfig.maximumHeldBody) : limit
    }

    /// Checks what the head alone shows: query parameters, required headers, the media type of a body.
    func checkHead(_ head: HTTPRequestHead, query: String?, framing: BodyFraming) throws(GatewayProblem) {
        if let maximum = config.maxQueryParams, let query, Self.parameterCount(query) > maximum {
            throw .badRequest("too_many_query_params", "The query has more than \(maximum) parameters.")
        }
        if let missing = config.requiredHeaders.first(where: { !head.headers.contains(name: $0) }) {
            throw .badRequest("missing_header", "The \(missing) header is required.")
        }
        if Self.needsBody(head.method, config), !framing.hasBody { throw Self.missingBody }
        guard !config.contentTypes.isEmpty, framing.hasBody else { return }
        let values = head.headers["content-type"]
        let mediaType = values.count == 1 ? Self.mediaType(values[0]) : nil
        guard let mediaType, config.contentTypes.contains(mediaType) else { throw .unsupportedMediaType(config.contentTypes) }
    }

    /// Checks a complete held body: JSON well-formedness and limits, then the schema. A request
    /// without a body is not checked unless a schema route's POST, PUT or PATCH (refused: an
    /// upstream would likely read the missing body as `{}`).
    func checkBody(_ body: ByteBuffer, method: HTTPMethod) throws(GatewayProblem) {
        guard config.holdsBody else { return }
        guard body.readableBytes > 0 else {
            if Self.needsBody(method, config) { throw Self.missingBody }
            return
        }
        let value: JSONValue
        do {
            value = try JSONReader.requestBodies.read(body.readableBytesView)
        } catch {
            throw .invalidJSON(error)
        }
        if let schema = config.schema {
            let violations = schema.violations(of: value)
            if !violations.isEmpty { throw .schemaViolation(violations) }
        }
    }

    static let missingBody = GatewayProblem.badRequest("missing_body", "This request needs a JSON body.")

    /// A POST, PUT or PATCH to a route with a schema must carry a body to check.
    private static func needsBody(_ method: HTTPMethod, _ config: ValidationConfig) -> Bool {
        config.schema != nil && (method == .POST || method == .PUT || method == .PATCH)
    }

    /// `type/subtype` of a `Content-Type` value, lower-cased, without parameters.
    static func mediaType(_ value: String) -> String? {
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingASCIISpaces().lowercased()
        return type.isEmpty ? nil : type
    }

    /// Parameters of a query string: its non-empty `&`-separated parts.
    static func parameterCount(_ query: String) -> Int {
        query.split(separator: "&").count
    }
}

extension RequestValidation: HeadPolicy, BodyPolicy {
    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        try checkHead(request.head, query: request.target?.query, framing: request.framing)
    }

    var heldBodyLimit: Int { Int(maxBodyBytes) }

    func check(_ body: ByteBuffer, request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        try checkBody(body, method: request.head.method)
    }
}

/// The route's body limit against a declared `Content-Length`, checked before authentication:
/// a body too large is refused before anything is spent on it.
struct BodySizeLimit: HeadPolicy {
    let maxBodyBytes: Int64

    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        if case .length(let length) = request.framing, length > maxBodyBytes { throw .bodyTooLarge }
    }
}

extension BodyFraming {
    /// Whether the request has a body to speak of.
    var hasBody: Bool {
        switch self {
        case .none: false
        case .length(let length): length > 0
        case .chunked: true
        }
    }
}
