import Foundation
import NIOCore
import NIOHTTP1

/// Everything the gateway knows about one request: set up at its head, filled in by admission and
/// the route's policies, and read by the forwarding, the audit trail, the access log and the
/// metrics, so that nothing is worked out twice.
struct RequestContext {
    /// The request's `X-Request-ID`: a trusted proxy's, else generated.
    let id: String
    let head: HTTPRequestHead
    /// The client address policies count and audit by: the peer, or what a trusted proxy says.
    let client: String
    /// The time policies judge the request at.
    let now: Date
    /// This event loop's verified tokens, for the auth policy.
    let tokenCache: VerifiedTokenCache?
    /// The normalised target, once the path passed normalisation.
    var target: PathNormalizer.Target?
    var framing: BodyFraming = .none
    /// The client sent `Expect: 100-continue`; it is answered once the head is admitted.
    var expectsContinue = false
    /// The route the request matched.
    var route: Route?
    /// The verified token's identity, on a route that checked one.
    var identity: VerifiedIdentity?
    /// What the policies decided that let the request through, for the metrics and the audit trail.
    var decisions: [PolicyDecision] = []
    /// Headers every answer carries, the gateway's own refusals included (CORS).
    var answerHeaders: [(String, String)] = []
    /// Headers added to the upstream's answer only (`RateLimit`).
    var forwardedAnswerHeaders: [(String, String)] = []
    /// The login attempt, on a `login = true` route once its body named a username.
    var login: LoginAttempt?

    init(id: String, head: HTTPRequestHead, client: String, now: Date, tokenCache: VerifiedTokenCache? = nil) {
        self.id = id
        self.head = head
        self.client = client
        self.now = now
        self.tokenCache = tokenCache
    }
}

/// A decision of a policy that let the request through, counted in the metrics and, where it
/// says so, audited.
enum PolicyDecision {
    /// The route's rate policies counted the request; it exceeded the shadow policies listed.
    case rateLimitCounted(shadowRefusals: [RateLimitPolicySet.ShadowRefusal])
    /// The request's origin is not allowed, and the route does not enforce CORS: its answer goes
    /// without CORS headers.
    case corsWithheld(reason: String)
}
