import NIOCore

/// A check a route applies to every request head, in the order its chain lists it: synchronous,
/// on the event loop, refusing with a ``GatewayProblem``.
///
/// A policy is compiled once from the route's config (``Route/headPolicies``); what it shares with
/// other requests (counters, keys) comes from the runtime it is given.
protocol HeadPolicy: Sendable {
    /// Checks `request`, and may add to it: an identity, headers for the answer, decisions.
    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem)

    /// Sees a request that a policy before it in the chain refused with `problem`, for a policy
    /// that counts refusals too (rate limits count refused tokens). It may refuse otherwise.
    func observeRefusal(_ problem: GatewayProblem, of request: RequestContext, route: Route, runtime: GatewayRuntime)
        throws(GatewayProblem)
}

extension HeadPolicy {
    func observeRefusal(_ problem: GatewayProblem, of request: RequestContext, route: Route, runtime: GatewayRuntime)
        throws(GatewayProblem)
    {}
}

/// A check of a request's complete body, which the route then holds before forwarding anything
/// (JSON validation, login protection).
protocol BodyPolicy: Sendable {
    /// The most body bytes the policy holds and reads; a larger body is refused with 413.
    var heldBodyLimit: Int { get }

    /// Checks the complete `body`, and may add to `request` (a login attempt).
    func check(_ body: ByteBuffer, request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem)
}

extension Route {
    /// Runs the route's head policies in order. A refusal carries the answer headers gathered so
    /// far (CORS), and the policies after the one that refused see it.
    func admit(_ request: inout RequestContext, runtime: GatewayRuntime) throws(GatewayProblem) {
        for (index, policy) in headPolicies.enumerated() {
            do {
                try policy.admit(&request, route: self, runtime: runtime)
            } catch {
                var refusal = error
                for later in headPolicies[(index + 1)...] {
                    do {
                        try later.observeRefusal(refusal, of: request, route: self, runtime: runtime)
                    } catch {
                        refusal = error
                    }
                }
                throw refusal.adding(headers: request.answerHeaders)
            }
        }
    }

    /// Checks a complete held body with each of the route's body policies in order.
    func checkBody(_ body: ByteBuffer, request: inout RequestContext, runtime: GatewayRuntime) throws(GatewayProblem) {
        for policy in bodyPolicies { try policy.check(body, request: &request, route: self, runtime: runtime) }
    }

    /// Bytes of body the route holds before forwarding; `nil` when it streams the body.
    var heldBodyLimit: Int? { bodyPolicies.map(\.heldBodyLimit).min() }
}
