import NIOHTTP1

/// A route's CORS, compiled once: answers preflights and decides the CORS headers of every answer.
///
/// Allowed origins get themselves back in `Access-Control-Allow-Origin` (never `*`), with
/// `Access-Control-Allow-Credentials` and `-Expose-Headers` as configured. Every answer of the
/// route carries `Vary: Origin`, so a cache never hands one origin's answer to another.
struct CORSPolicy: Sendable {
    let config: CORSConfig
    private let allowedHeaderNames: Set<String>
    /// The exact allowed origins by their serialization: an `Origin` sent exactly so (as browsers
    /// send it) needs no parsing.
    private let exactOrigins: [String: Origin]
    private let allowMethodsField: String
    private let allowHeadersField: String
    private let exposeHeadersField: String

    static let varyActual = ("Vary", "Origin")
    static let varyPreflight = ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")

    init(_ config: CORSConfig) {
        self.config = config
        allowedHeaderNames = Set(config.allowedHeaders.map { $0.lowercased() })
        var exact: [String: Origin] = [:]
        for pattern in config.allowedOrigins {
            if case .exact(let origin) = pattern.kind { exact[origin.description] = origin }
        }
        exactOrigins = exact
        allowMethodsField = config.allowedMethods.joined(separator: ", ")
        allowHeadersField = config.allowedHeaders.joined(separator: ", ")
        exposeHeadersField = config.exposeHeaders.joined(separator: ", ")
    }

    var isEnabled: Bool { config.isEnabled }

    /// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    static func isPreflight(_ head: HTTPRequestHead) -> Bool {
        head.method == .OPTIONS && head.headers.contains(name: "origin") && head.headers.contains(name: "access-control-request-method")
    }

    /// The allowed origin a request names, or why it is not one.
    private func allowedOrigin(_ headers: HTTPHeaders) -> Result<Origin, CORSRejection> {
        let values = headers["origin"]
        if values.count == 1, let origin = exactOrigins[values[0]] { return .success(origin) }
        guard values.count == 1, let origin = Origin(values[0]) else { return .failure(CORSRejection("malformed Origin")) }
        guard config.allowedOrigins.contains(where: { $0.matches(origin) }) else {
            return .failure(CORSRejection("origin \(origin) not allowed"))
        }
        return .success(origin)
    }

    /// The 204 answer to a preflight, or the 403 that refuses it.
    func answerPreflight(_ headers: HTTPHeaders) throws(GatewayProblem) -> [(String, String)] {
        let origin: Origin
        switch allowedOrigin(headers) {
        case .success(let allowed): origin = allowed
        case .failure(let rejection): throw .corsRejected(rejection.reason, vary: Self.varyPreflight)
        }
        let method = headers["access-control-request-method"].first ?? ""
        guard config.allowedMethods.contains(method) else {
            throw .corsRejected("method \(method) not allowed for \(origin)", vary: Self.varyPreflight)
        }
        let requested = headers["access-control-request-headers"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingASCIISpaces().lowercased() }.filter { !$0.isEmpty }
        if let refused = requested.first(where: { !allowedHeaderNames.contains($0) }) {
            throw .corsRejected("header \(refused) not allowed for \(origin)", vary: Self.varyPreflight)
        }
        var answer = [("Access-Control-Allow-Origin", origin.description), ("Access-Control-Allow-Methods", allowMethodsField)]
        if !allowHeadersField.isEmpty { answer.append(("Access-Control-Allow-Headers", allowHeadersField)) }
        if config.allowCredentials { answer.append(("Access-Control-Allow-Credentials", "true")) }
        answer.append(("Access-Control-Max-Age", String(config.maxAge.components.seconds)))
        answer.append(Self.varyPreflight)
        return answer
    }

    /// The CORS headers of any answer to a request that is not a preflight, and, for a request
    /// from an origin that is not allowed, why (it then gets `Vary: Origin` only).
    func responseHeaders(_ headers: HTTPHeaders) -> (headers: [(String, String)], rejection: CORSRejection?) {
        guard headers.contains(name: "origin") else { return ([Self.varyActual], nil) }
        switch allowedOrigin(headers) {
        case .failure(let rejection):
            return ([Self.varyActual], rejection)
        case .success(let origin):
            var answer = [("Access-Control-Allow-Origin", origin.description)]
            if config.allowCredentials { answer.append(("Access-Control-Allow-Credentials", "true")) }
            if !exposeHeadersField.isEmpty { answer.append(("Access-Control-Expose-Headers", exposeHeadersField)) }
            answer.append(Self.varyActual)
            return (answer, nil)
        }
    }
}

extension CORSPolicy: HeadPolicy {
    /// Gathers the CORS headers every answer to the request carries. A request from an origin the
    /// route does not allow is refused (403) when the route enforces CORS, else answered without them.
    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        let cors = responseHeaders(request.head.headers)
        if let rejection = cors.rejection {
            if config.enforce { throw .corsRejected(rejection.reason, vary: Self.varyActual) }
            request.decisions.append(.corsWithheld(reason: rejection.reason))
        }
        request.answerHeaders += cors.headers
    }
}

/// Why a request's origin, method or headers are not allowed; safe to audit.
struct CORSRejection: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
