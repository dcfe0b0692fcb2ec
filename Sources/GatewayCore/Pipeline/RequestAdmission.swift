import Foundation
import NIOCore
import NIOHTTP1

/// What the checks at the head decided for a request that is not refused.
enum Admission {
    /// Forward it to the route's upstream, with this head.
    case forward(Route, upstreamHead: HTTPRequestHead)
    /// The gateway answers it itself, without a body (a CORS preflight: 204).
    case answer(HTTPResponseStatus, headers: [(String, String)])
}

/// The checks a request head goes through before anything is forwarded: the protocol's limits,
/// framing, Host, target normalisation, CORS preflights (answered here, before authentication),
/// routing, and then the matched route's own policy chain (``Route/headPolicies``).
enum RequestAdmission {
    /// Longest request target accepted (414 beyond), capped by `max_header_bytes`.
    static let maximumTargetBytes = 8 * 1024

    /// Admits `request`, filling in what the checks learn (target, route, identity, headers for the
    /// answer); `peer` is the directly connected address, for the forwarding headers.
    static func admit(_ request: inout RequestContext, peer: SocketAddress?, runtime: GatewayRuntime) throws(GatewayProblem)
        -> Admission
    {
        let head = request.head
        let checked = try check(head, server: runtime.config.server)
        request.framing = checked.framing
        request.expectsContinue = checked.expectsContinue
        let target = checked.target
        request.target = target
        if CORSPolicy.isPreflight(head), let answer = try preflight(&request, path: target.path, runtime: runtime) {
            return answer
        }
        let route: Route
        switch runtime.routes.match(path: target.path, method: head.method.rawValue) {
        case .route(let matched): route = matched
        case .methodNotAllowed(let allow): throw .methodNotAllowed(allow: allow)
        case .notFound: throw .notFound
        }
        request.route = route
        try route.admit(&request, runtime: runtime)

        var upstreamTarget = target
        upstreamTarget.path = route.upstreamPath(for: target.path)
        let headers = runtime.headerRules.upstreamRequestHeaders(
            head.headers, peer: peer, requestID: request.id, framing: request.framing, identity: request.identity)
        return .forward(
            route, upstreamHead: HTTPRequestHead(version: .http1_1, method: head.method, uri: upstreamTarget.uri, headers: headers))
    }

    /// What ``check(_:server:)`` learns from a request head it accepts.
    struct CheckedHead {
        var framing: BodyFraming
        var expectsContinue: Bool
        /// The normalised origin-form target.
        var target: PathNormalizer.Target
    }

    /// The protocol checks every listener applies to a request head, before anything of its own:
    /// the size limits, framing, exactly one well-formed `Host`, no upgrade, only `100-continue`
    /// expected, and an origin-form target that normalises (RFC 9112 §3.2: absolute-form is refused).
    static func check(_ head: HTTPRequestHead, server: ServerConfig) throws(GatewayProblem) -> CheckedHead {
        guard head.uri.utf8.count <= min(maximumTargetBytes, server.maxHeaderBytes) else { throw .uriTooLong }
        guard headerBytes(head) <= server.maxHeaderBytes else { throw .headersTooLarge }
        let framing = try BodyFraming.of(head)
        try checkHost(head.headers)
        try refuseUpgrade(head.headers)
        let expectsContinue = try expectation(head.headers)
        do {
            return CheckedHead(framing: framing, expectsContinue: expectsContinue, target: try PathNormalizer.normalize(head.uri))
        } catch {
            throw .pathRejected(error.reason)
        }
    }

    /// Answers a CORS preflight for the route that would take the method it asks for, before any
    /// authentication and counted by the preflight policy alone. `nil` when that route has no
    /// CORS: the request is then an ordinary `OPTIONS` request.
    private static func preflight(_ request: inout RequestContext, path: String, runtime: GatewayRuntime) throws(GatewayProblem)
        -> Admission?
    {
        let headers = request.head.headers
        let method = headers["access-control-request-method"].first ?? ""
        guard case .route(let route) = runtime.routes.match(path: path, method: method), route.cors.isEnabled else { return nil }
        request.route = route
        _ = try runtime.preflightLimits.admit(
            limiter: runtime.rateLimiter, keying: runtime.rateLimitKeying, client: request.client, identity: nil, headers: headers,
            now: request.now, responseHeaders: false)
        return .answer(.noContent, headers: try route.cors.answerPreflight(headers))
    }

    /// Request line plus header fields as they appeared on the wire (CRLFs included).
    static func headerBytes(_ head: HTTPRequestHead) -> Int {
        var total = head.method.rawValue.utf8.count + head.uri.utf8.count + 12
        for (name, value) in head.headers { total += name.utf8.count + value.utf8.count + 4 }
        return total
    }

    private static func checkHost(_ headers: HTTPHeaders) throws(GatewayProblem) {
        let hosts = headers["host"]
        guard hosts.count == 1, HeaderRules.hostName(hosts[0]) != nil else {
            throw .badRequest("bad_host", "Exactly one well-formed Host header is required.")
        }
    }

    /// No protocol upgrade is forwarded (h2c smuggling, and the decoder stops parsing after an upgrade).
    private static func refuseUpgrade(_ headers: HTTPHeaders) throws(GatewayProblem) {
        if headers.contains(name: "upgrade") || headers.contains(name: "http2-settings") {
            throw .badRequest("upgrade_refused", "Protocol upgrades (such as h2c or WebSocket) are not supported.")
        }
    }

    private static func expectation(_ headers: HTTPHeaders) throws(GatewayProblem) -> Bool {
        let values = headers["expect"]
        if values.isEmpty { return false }
        guard values.count == 1, values[0].lowercased() == "100-continue" else { throw .expectationFailed }
        return true
    }
}

extension BodyFraming {
    /// How the client delimits its body; ambiguous framing is refused (request smuggling).
    static func of(_ head: HTTPRequestHead) throws(GatewayProblem) -> BodyFraming {
        let lengths = head.headers[canonicalForm: "content-length"]
        let codings = head.headers[canonicalForm: "transfer-encoding"]
        if !codings.isEmpty {
            guard lengths.isEmpty else { throw .badFraming("Content-Length and Transfer-Encoding must not both be sent.") }
            // On HTTP/2 the client cannot send Transfer-Encoding (NIOHTTP2 resets such a stream): the
            // stream codec states `chunked` itself for a body of unknown length (its DATA frames).
            guard head.version == .http1_1 || head.version.major == 2, codings.count == 1, codings[0].lowercased() == "chunked" else {
                throw .badFraming("Only the chunked transfer coding is supported.")
            }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }), first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            first.utf8.count <= 18, let length = Int64(first)
        else { throw .badFraming("The Content-Length header is invalid.") }
        return .length(length)
    }
}
