import NIOCore

/// `[admin]`: the operators' listener, plain HTTP for loopback or a management network. Without
/// `[admin] listen` there is none.
///
/// It is bounded like the TLS listener: `[server] request_header_timeout` and `idle_timeout` hold
/// on it too, its open connections are capped by `max_connections`, and a request body may have
/// at most ``maxBodyBytes``.
public struct AdminConfig: Sendable {
    /// Where it listens; `nil` for no admin listener.
    public var listen: HostPort?
    /// Clients beyond loopback that may use it. Default none: loopback only.
    public var allowedClients: [CIDR]
    /// Open admin connections at most; more are closed on accept. Default 64.
    public var maxConnections: Int

    public init(listen: HostPort? = nil, allowedClients: [CIDR] = [], maxConnections: Int = 64) {
        self.listen = listen
        self.allowedClients = allowedClients
        self.maxConnections = maxConnections
    }

    /// Loopback networks, always allowed.
    static let loopback = [CIDR("127.0.0.0/8")!, CIDR("::1/128")!]

    /// Whether `host` (a listen address) is `localhost` or in a loopback network.
    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = try? SocketAddress(ipAddress: host, port: 0) else { return false }
        return loopback.contains { $0.contains(address) }
    }

    /// Largest request body the admin listener reads (its endpoints take none); beyond, 413.
    static let maxBodyBytes = 4 * 1024

    /// Highest `max_connections`: the admin listener is for a few operators and scrapers.
    static let maxConnectionsRange = 1...4_096
}

extension AdminConfig {
    /// The keys of `[admin]`.
    enum Key: String, ConfigKeys {
        case listen
        case allowedClients = "allowed_clients"
        case maxConnections = "max_connections"
    }

    init(decoding table: ConfigTable<Key>) {
        self.init(
            listen: table.parsed(.listen, HostPort.listenAddress),
            allowedClients: table.array(.allowedClients, CIDR.parseClientNetwork) ?? [],
            maxConnections: table.int(.maxConnections, in: Self.maxConnectionsRange) ?? 64
        )
    }
}
