import Foundation
import NIOCore
import NIOHTTP1

/// What the checks at the head decided for a request that is not refused.
enum Admission {
    /// Forward it.
    case forward(AdmittedRequest)
    /// The gateway answers it itself, without a body (a CORS preflight: 204).
    case answer(HTTPResponseStatus, headers: [(String, String)])
}

/// A request that passed every check at the head, ready to forward.
struct AdmittedRequest {
    let route: Route
    let upstreamHead: HTTPRequestHead
    let framing: BodyFraming
    let identity: VerifiedIdentity?
    /// The client sent `Expect: 100-continue`; the gateway answers it once the head is admitted.
    let expectsContinue: Bool
    /// Headers the gateway adds to the answer: CORS and `RateLimit`.
    let responseHeaders: [(String, String)]
    /// CORS headers alone, for an error answer the gateway gives later (502, 504, a login refusal).
    let corsHeaders: [(String, String)]
    /// Decisions to audit that let the request through: a shadow rate policy's, a CORS rejection
    /// that is not enforced.
    let passedDecisions: [PassedDecision]
    /// Whether the route's rate policies counted the request, and how many shadow policies it exceeded (for metrics).
    let rateLimitCounted: Bool
    let shadowRefusals: Int
    /// CORS headers were withheld from a request whose origin the route does not allow (not enforced).
    let corsWithheld: Bool
}

/// A security decision that did not stop the request.
struct PassedDecision {
    let type: AuditEventType
    let reason: String
}

/// The ordered checks a request head goes through before anything is forwarded:
/// limits, framing, target normalisation, routing, CORS (preflights are answered here, before
/// authentication), body size, authentication, rate limits (which count requests that
/// authentication refused too), the route's input checks.
enum RequestAdmission {
    /// Longest request target accepted (414 beyond), capped by `max_header_bytes`.
    static let maximumTargetBytes = 8 * 1024

    static func admit(
        _ head: HTTPRequestHead,
        peer: SocketAddress?,
        requestID: String,
        runtime: GatewayRuntime,
        tokenCache: VerifiedTokenCache? = nil
    ) throws(GatewayProblem) -> Admission {
        let server = runtime.config.server
        guard head.uri.utf8.count <= min(maximumTargetBytes, server.maxHeaderBytes) else { throw .uriTooLong }
        guard headerBytes(head) <= server.maxHeaderBytes else { throw .headersTooLarge }
        let framing = try BodyFraming.of(head)
        try checkHost(head.headers)
        try refuseUpgrade(head.headers)
        let expectsContinue = try expectation(head.headers)

        let target: PathNormalizer.Target
        do {
            target = try PathNormalizer.normalize(head.uri)
        } catch {
            throw .pathRejected(error.reason)
        }
        if CORSPolicy.isPreflight(head), let answer = try preflight(head, path: target.path, peer: peer, runtime: runtime) {
            return answer
        }
        let route: Route
        switch runtime.routes.match(path: target.path, method: head.method.rawValue) {
        case .route(let matched): route = matched
        case .methodNotAllowed(let allow): throw .methodNotAllowed(allow: allow)
        case .notFound: throw .notFound
        }
        var corsHeaders: [(String, String)] = []
        var passed: [PassedDecision] = []
        if route.cors.isEnabled {
            let cors = route.cors.responseHeaders(head.headers)
            corsHeaders = cors.headers
            if let rejection = cors.rejection {
                if route.cors.config.enforce { throw GatewayProblem.corsRejected(rejection.reason, vary: CORSPolicy.varyActual) }
                passed.append(PassedDecision(type: .corsRejected, reason: rejection.reason))
            }
        }
        do throws(GatewayProblem) {
            if case .length(let length) = framing, length > route.validation.maxBodyBytes { throw .bodyTooLarge }
            let now = runtime.now()
            func countRateLimits(_ identity: VerifiedIdentity?, keyHeaders: HTTPHeaders) throws(GatewayProblem)
                -> RateLimitPolicySet.Admission
            {
                try route.rateLimits.admit(
                    limiter: runtime.rateLimiter, keying: runtime.rateLimitKeying,
                    client: runtime.headerRules.clientAddress(peer: peer, headers: head.headers), identity: identity,
                    headers: keyHeaders, now: now, responseHeaders: runtime.config.rateLimit.responseHeaders)
            }
            let identity: VerifiedIdentity?
            do throws(GatewayProblem) {
                identity = try runtime.auth.authenticate(head.headers, route: route, now: now, cache: tokenCache)
            } catch  where error.status == .unauthorized || error.status == .forbidden {
                // A refused token counts against the client's address for every policy (no identity,
                // and no header the client could vary), so guessing or replaying tokens is limited too.
                _ = try countRateLimits(nil, keyHeaders: [:])
                throw error
            }
            let rateLimit = try countRateLimits(identity, keyHeaders: head.headers)
            passed += rateLimit.shadowRefusals.filter(\.audited).map { PassedDecision(type: .rateLimited, reason: $0.reason) }
            try route.validation.checkHead(head, query: target.query, framing: framing)

            var upstreamTarget = target
            upstreamTarget.path = route.upstreamPath(for: target.path)
            let headers = runtime.headerRules.upstreamRequestHeaders(
                head.headers, peer: peer, requestID: requestID, framing: framing, identity: identity)
            let upstreamHead = HTTPRequestHead(
                version: .http1_1, method: head.method, uri: upstreamTarget.uri, headers: headers)
            return .forward(
                AdmittedRequest(
                    route: route, upstreamHead: upstreamHead, framing: framing, identity: identity,
                    expectsContinue: expectsContinue, responseHeaders: corsHeaders + rateLimit.responseHeaders,
                    corsHeaders: corsHeaders, passedDecisions: passed, rateLimitCounted: !route.rateLimits.policies.isEmpty,
                    shadowRefusals: rateLimit.shadowRefusals.count, corsWithheld: passed.contains { $0.type == .corsRejected }))
        } catch {
            throw error.adding(headers: corsHeaders)
        }
    }

    /// Answers a CORS preflight for the route that would take the method it asks for, before any
    /// authentication and counted by the preflight policy alone. `nil` when that route has no
    /// CORS: the request is then an ordinary `OPTIONS` request.
    private static func preflight(
        _ head: HTTPRequestHead, path: String, peer: SocketAddress?, runtime: GatewayRuntime
    ) throws(GatewayProblem) -> Admission? {
        let method = head.headers["access-control-request-method"].first ?? ""
        guard case .route(let route) = runtime.routes.match(path: path, method: method), route.cors.isEnabled else { return nil }
        _ = try runtime.preflightLimits.admit(
            limiter: runtime.rateLimiter, keying: runtime.rateLimitKeying,
            client: runtime.headerRules.clientAddress(peer: peer, headers: head.headers), identity: nil, headers: head.headers,
            now: runtime.now(), responseHeaders: false)
        return .answer(.noContent, headers: try route.cors.answerPreflight(head.headers))
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
