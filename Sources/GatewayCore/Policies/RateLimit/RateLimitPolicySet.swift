import Foundation
import NIOHTTP1

/// A route's rate policies, checked against the node's ``RateLimiter``: the entry point the
/// request pipeline calls once a request is authenticated.
struct RateLimitPolicySet: Sendable {
    let policies: [RateLimitPolicy]
    /// `RateLimit-Policy`, computed once.
    let policyField: String?

    init(_ policies: [RateLimitPolicy]) {
        self.policies = policies
        self.policyField = RateLimitHeaders.policyField(policies)
    }

    /// What passing the limits adds to a request: headers for the response, and the shadow
    /// policies it exceeded, to audit.
    struct Admission {
        var responseHeaders: [(String, String)] = []
        var shadowRefusals: [ShadowRefusal] = []
    }

    /// A shadow policy the request went over; `audited` is false for the refusals sampling skips.
    struct ShadowRefusal {
        let reason: String
        let audited: Bool
    }

    /// Counts the request against every policy: a 429 when an enforced one is exhausted.
    func admit(
        limiter: RateLimiter, keying: RateLimitKeying, client: @autoclosure () -> String, identity: VerifiedIdentity?,
        headers: HTTPHeaders,
        now: Date, responseHeaders: Bool
    ) throws(GatewayProblem) -> Admission {
        guard !policies.isEmpty else { return Admission() }
        let client = client()  // resolved only for routes that count
        let keys = policies.map { keying.value(of: $0.key, client: client, identity: identity, headers: headers) }
        let verdicts = limiter.check(policies, keys: keys, now: now.rateLimitNanoseconds)
        var admission = Admission()
        for verdict in verdicts where !verdict.outcome.admitted {
            let reason = Self.reason(verdict)
            guard verdict.policy.mode == .enforce else {
                admission.shadowRefusals.append(ShadowRefusal(reason: reason, audited: verdict.audited))
                continue
            }
            throw .rateLimited(
                retryAfter: RateLimitHeaders.seconds(verdict.outcome.retryAfter), headers: fields(verdicts), reason: reason,
                subject: identity?.subject, audited: verdict.audited)
        }
        if responseHeaders { admission.responseHeaders = fields(verdicts) }
        return admission
    }

    private func fields(_ verdicts: [RateLimiter.Verdict]) -> [(String, String)] {
        guard let policyField, let state = RateLimitHeaders.stateField(verdicts) else { return [] }
        return [("RateLimit-Policy", policyField), ("RateLimit", state)]
    }

    private static func reason(_ verdict: RateLimiter.Verdict) -> String {
        let skipped = verdict.skippedAudits > 0 ? "; \(verdict.skippedAudits) more refused since the last event" : ""
        return "\(verdict.policy.name) exhausted for \(verdict.key)\(skipped)"
    }
}

extension RateLimitPolicySet: HeadPolicy {
    /// Counts the request against the route's policies, keyed by its identity when it has one.
    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        if !policies.isEmpty, runtime.config.store.onStoreLoss == .failClosed, runtime.rateLimiter.isStoreLost {
            throw .storeUnavailable
        }
        let admission = try admit(
            limiter: runtime.rateLimiter, keying: runtime.rateLimitKeying, client: request.client, identity: request.identity,
            headers: request.head.headers, now: request.now, responseHeaders: runtime.config.rateLimit.responseHeaders)
        request.forwardedAnswerHeaders += admission.responseHeaders
        request.decisions.append(.rateLimitCounted(shadowRefusals: admission.shadowRefusals))
    }

    /// A refused token counts against the client's address for every policy (no identity, and no
    /// header the client could vary), so guessing or replaying tokens is limited too.
    func observeRefusal(_ problem: GatewayProblem, of request: RequestContext, route: Route, runtime: GatewayRuntime)
        throws(GatewayProblem)
    {
        guard let type = problem.auditType, Self.tokenRefusals.contains(type) else { return }
        _ = try admit(
            limiter: runtime.rateLimiter, keying: runtime.rateLimitKeying, client: request.client, identity: nil, headers: [:],
            now: request.now, responseHeaders: false)
    }

    private static let tokenRefusals: Set<AuditEventType> = [.authMissing, .authInvalid, .authExpired, .authRevoked, .scopeDenied]
}
