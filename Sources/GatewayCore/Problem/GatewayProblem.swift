import NIOCore
import NIOHTTP1

/// An answer the gateway gives itself, rendered as RFC 9457 problem details.
///
/// Each case has a stable snake_case `code` a client can switch on and a message that is safe to show:
/// no internals, paths or upstream details ever reach it.
public struct GatewayProblem: Error, Sendable, Equatable {
    /// HTTP status of the answer.
    public let status: HTTPResponseStatus
    /// Stable machine-readable code, e.g. `path_rejected`.
    public let code: String
    /// Human explanation, safe to show to any client.
    public let detail: String
    /// Extra response headers, e.g. `Allow` or `WWW-Authenticate`.
    public let headers: [(String, String)]
    /// Close the client connection after answering (framing could not be trusted, or a body is left unread).
    public let closesConnection: Bool
    /// The security decision this answer records in the audit trail, if it is one.
    public let auditType: AuditEventType?
    /// The short reason the audit trail keeps: the token check that failed, else the code.
    public let auditReason: String
    /// The verified subject the decision concerns, when the request had one.
    public let auditSubject: String?
    /// For a body that fails its schema: each violation, as the `violations` member of the body.
    let violations: [JSONSchema.Violation]

    init(
        _ status: HTTPResponseStatus,
        _ code: String,
        _ detail: String,
        headers: [(String, String)] = [],
        closesConnection: Bool = false,
        audit auditType: AuditEventType? = nil,
        reason: String? = nil,
        subject: String? = nil,
        violations: [JSONSchema.Violation] = []
    ) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.closesConnection = closesConnection
        self.auditType = auditType
        self.auditReason = reason ?? code
        self.auditSubject = subject
        self.violations = violations
    }

    public static func == (lhs: GatewayProblem, rhs: GatewayProblem) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.detail == rhs.detail
            && lhs.closesConnection == rhs.closesConnection && lhs.auditType == rhs.auditType
            && lhs.auditReason == rhs.auditReason && lhs.auditSubject == rhs.auditSubject && lhs.violations == rhs.violations
            && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    /// The same problem with `extra` headers after its own (CORS headers, so that a browser page can read it).
    public func adding(headers extra: [(String, String)]) -> GatewayProblem {
        guard !extra.isEmpty else { return self }
        return GatewayProblem(
            status, code, detail, headers: headers + extra, closesConnection: closesConnection, audit: auditType, reason: auditReason,
            subject: auditSubject, violations: violations)
    }

    /// The same problem, forcing the connection to close afterwards.
    public func closingConnection() -> GatewayProblem {
        GatewayProblem(
            status, code, detail, headers: headers, closesConnection: true, audit: auditType, reason: auditReason, subject: auditSubject,
            violations: violations)
    }
}

extension GatewayProblem {
    public static func badRequest(_ code: String, _ detail: String) -> GatewayProblem {
        GatewayProblem(.badRequest, code, detail, audit: .badRequest)
    }

    /// Framing the gateway cannot interpret safely (CL+TE, conflicting lengths, unknown codings, parse errors).
    public static func badFraming(_ detail: String) -> GatewayProblem {
        GatewayProblem(.badRequest, "bad_framing", detail, closesConnection: true, audit: .badRequest)
    }

    public static func pathRejected(_ reason: String) -> GatewayProblem {
        GatewayProblem(
            .badRequest, "path_rejected", "The request path was rejected: \(reason).", audit: .badRequest,
            reason: "path_rejected: \(reason)")
    }

    public static let notFound = GatewayProblem(.notFound, "no_route", "No route matches this path.")

    public static func methodNotAllowed(allow: [String]) -> GatewayProblem {
        GatewayProblem(
            .methodNotAllowed, "method_not_allowed", "This method is not allowed on this route.",
            headers: [("Allow", allow.joined(separator: ", "))])
    }

    public static let headersTooLarge = GatewayProblem(
        .requestHeaderFieldsTooLarge, "headers_too_large", "The request header section is too large.",
        closesConnection: true, audit: .badRequest)

    public static let uriTooLong = GatewayProblem(
        .uriTooLong, "uri_too_long", "The request target is too long.", closesConnection: true, audit: .badRequest)

    public static let bodyTooLarge = GatewayProblem(
        .payloadTooLarge, "body_too_large", "The request body is larger than this route accepts.",
        closesConnection: true, audit: .badRequest)

    /// A body whose media type the route does not take.
    public static func unsupportedMediaType(_ allowed: [String]) -> GatewayProblem {
        GatewayProblem(
            .unsupportedMediaType, "unsupported_media_type", "The request body must be one of: \(allowed.joined(separator: ", ")).",
            audit: .badRequest)
    }

    /// A body that is not acceptable JSON; `detail` says what and at which byte.
    static func invalidJSON(_ error: JSONSyntaxError) -> GatewayProblem {
        GatewayProblem(
            .badRequest, "invalid_json", "The request body is not acceptable JSON: \(error.description).", audit: .badRequest,
            reason: "invalid JSON at byte offset \(error.offset)")
    }

    /// A JSON body that fails the route's schema; each violation is listed with its JSON pointer.
    static func schemaViolation(_ violations: [JSONSchema.Violation]) -> GatewayProblem {
        let first = violations.first.map { "\($0.pointer) \($0.message)" } ?? ""
        return GatewayProblem(
            .badRequest, "schema_violation", "The request body does not match the expected shape.", audit: .badRequest,
            reason: "schema: \(first)" + (violations.count > 1 ? " (+\(violations.count - 1) more)" : ""), violations: violations)
    }

    public static let expectationFailed = GatewayProblem(
        .expectationFailed, "expectation_failed", "Only the 100-continue expectation is supported.",
        closesConnection: true, audit: .badRequest)

    /// No token where one is required (RFC 6750: no error attribute).
    public static let authRequired = GatewayProblem(
        .unauthorized, "auth_required", "This route requires a bearer token.",
        headers: [("WWW-Authenticate", "Bearer")], audit: .authMissing)

    /// A token was presented and failed a check; the rejection names the check in terms safe to show.
    public static func invalidToken(_ rejection: TokenRejection) -> GatewayProblem {
        GatewayProblem(
            .unauthorized, "invalid_token", "The bearer token was rejected: \(rejection.reason).",
            headers: [("WWW-Authenticate", #"Bearer error="invalid_token""#)], audit: rejection.auditType,
            reason: rejection.reason)
    }

    /// A valid token without a scope or role the route requires (RFC 6750 §3.1).
    public static func insufficientScope(required scopes: [String], missing: [String]) -> GatewayProblem {
        var challenge = #"Bearer error="insufficient_scope""#
        if !scopes.isEmpty { challenge += #", scope=""# + scopes.joined(separator: " ") + #"""# }
        return GatewayProblem(
            .forbidden, "insufficient_scope", "The bearer token lacks a scope or role this route requires.",
            headers: [("WWW-Authenticate", challenge)], audit: .scopeDenied,
            reason: "missing " + missing.joined(separator: " "))
    }

    /// Too many failed logins from this client or for this username: refused until the cooldown ends.
    /// Only the first refusal of each lock is audited (`audited`); the message does not say which lock.
    public static func loginLocked(retryAfter seconds: Int, reason: String, audited: Bool) -> GatewayProblem {
        GatewayProblem(
            .tooManyRequests, "login_locked", "Too many failed login attempts; try again later.",
            headers: [("Retry-After", String(seconds))], audit: audited ? .loginLocked : nil, reason: reason)
    }

    /// An enforced rate policy is exhausted: `Retry-After` says when the next request would pass.
    /// Only sampled refusals are audited (``RateLimiter/auditSampling``).
    public static func rateLimited(
        retryAfter seconds: Int64, headers: [(String, String)], reason: String, subject: String?, audited: Bool
    ) -> GatewayProblem {
        GatewayProblem(
            .tooManyRequests, "rate_limited", "Too many requests; try again later.",
            headers: [("Retry-After", String(max(seconds, 1)))] + headers, audit: audited ? .rateLimited : nil, reason: reason,
            subject: subject)
    }

    /// A browser origin, method or header that the route's CORS does not allow.
    public static func corsRejected(_ reason: String, vary: (String, String)) -> GatewayProblem {
        GatewayProblem(
            .forbidden, "cors_rejected", "This origin may not make this request.", headers: [vary], audit: .corsRejected,
            reason: reason)
    }

    public static let upstreamUnavailable = GatewayProblem(
        .badGateway, "upstream_unavailable", "The upstream service could not be reached.", audit: .upstreamError)

    public static let upstreamFailed = GatewayProblem(
        .badGateway, "upstream_failed", "The upstream service failed to answer.", closesConnection: true,
        audit: .upstreamError)

    public static let upstreamTimeout = GatewayProblem(
        .gatewayTimeout, "upstream_timeout", "The upstream service did not answer in time.", closesConnection: true,
        audit: .upstreamError)

    /// Tokens cannot be checked because no public key is available (the identity provider has not
    /// answered yet and none was stored): not the client's fault, so 503 rather than 401.
    public static let keysUnavailable = GatewayProblem(
        .serviceUnavailable, "keys_unavailable", "The keys to verify tokens are not available; try again later.",
        headers: [("Retry-After", "30")])

    /// The store cannot be reached and `[store] on_store_loss = "fail_closed"`: rate-limited
    /// routes are not served on one gateway's counters alone.
    public static let storeUnavailable = GatewayProblem(
        .serviceUnavailable, "store_unavailable", "The gateway cannot enforce this route's limits right now; try again shortly.",
        headers: [("Retry-After", "1")])

    public static let serviceUnavailable = GatewayProblem(
        .serviceUnavailable, "service_unavailable", "The gateway cannot serve this request right now.")

    /// Every request slot of the upstream stayed taken for its `queue_timeout`.
    public static let upstreamBusy = GatewayProblem(
        .serviceUnavailable, "upstream_busy", "The upstream service is at its limit of requests; try again shortly.",
        headers: [("Retry-After", "1")], audit: .upstreamError, reason: "upstream_busy: max_connections reached")

    /// Holding this body would take the gateway beyond `[server] held_body_budget`.
    public static let heldBodyBudgetExceeded = GatewayProblem(
        .serviceUnavailable, "gateway_busy", "The gateway is holding too many request bodies; try again shortly.",
        headers: [("Retry-After", "1")], closesConnection: true)

    /// The body did not arrive within `request_body_timeout`, or arrived slower than `request_body_min_rate`.
    public static func bodyTimeout(_ reason: String) -> GatewayProblem {
        GatewayProblem(
            .requestTimeout, "body_timeout", "The request body did not arrive in time.", closesConnection: true, audit: .badRequest,
            reason: "body_timeout: \(reason)")
    }
}

extension GatewayProblem {
    /// The problem+json body for this problem, tagged with the request id.
    public func body(requestID: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var json = "{\"type\":\"urn:gateway:problem:\(code)\",\"title\":"
        JSONText.appendString(status.reasonPhrase, to: &json)
        json += ",\"status\":\(status.code),\"detail\":"
        JSONText.appendString(detail, to: &json)
        json += ",\"code\":\"\(code)\",\"request_id\":"
        JSONText.appendString(requestID, to: &json)
        if !violations.isEmpty {
            json += ",\"violations\":["
            for (index, violation) in violations.enumerated() {
                json += index == 0 ? "{\"pointer\":" : ",{\"pointer\":"
                JSONText.appendString(violation.pointer, to: &json)
                json += ",\"message\":"
                JSONText.appendString(violation.message, to: &json)
                json += "}"
            }
            json += "]"
        }
        json += "}"
        return allocator.buffer(string: json)
    }
}

/// Minimal JSON string escaping for the bodies the gateway writes itself.
enum JSONText {
    static func appendString(_ value: String, to out: inout String) {
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}
