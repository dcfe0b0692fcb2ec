import NIOCore

/// A route's `request_buffering`: the whole body is held, up to the route's body limit, before an
/// upstream connection is taken, so a client that trickles its body never holds one. Nothing in
/// the body is checked; it counts against `[server] held_body_budget` like any held body.
struct RequestBuffering: BodyPolicy {
    let heldBodyLimit: Int

    func check(_ body: ByteBuffer, request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {}
}
