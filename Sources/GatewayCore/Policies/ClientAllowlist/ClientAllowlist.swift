import NIOCore
import NIOHTTP1

/// A route's `allow_clients`: only clients whose address lies in one of the listed networks may
/// use the route; any other is refused with 403 `client_not_allowed`, and the refusal is audited.
///
/// The address checked is the resolved client: the peer, or what a configured trusted proxy says.
struct ClientAllowlist: HeadPolicy {
    let networks: [CIDR]

    func admit(_ request: inout RequestContext, route: Route, runtime: GatewayRuntime) throws(GatewayProblem) {
        guard let address = try? SocketAddress(ipAddress: request.client, port: 0), networks.contains(where: { $0.contains(address) })
        else { throw .clientNotAllowed }
    }
}

extension GatewayProblem {
    /// The client's address is not one the route allows.
    public static let clientNotAllowed = GatewayProblem(
        .forbidden, "client_not_allowed", "This client may not use this route.", audit: .clientNotAllowed,
        reason: "client not in allow_clients")
}

extension RouteConfig {
    /// Decodes `allow_clients`: a non-empty list of networks; left out, every client is allowed.
    static func decodeAllowClients(_ table: ConfigTable<Key>) -> [CIDR]? {
        guard let networks = table.array(.allowClients, CIDR.parseClientNetwork) else { return nil }
        if networks.isEmpty { table.report(.allowClients, "must not be empty; leave it out to allow every client") }
        return networks.isEmpty ? nil : networks
    }
}
