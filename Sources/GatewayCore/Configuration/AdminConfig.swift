/// `[admin]`: the operators' listener, plain HTTP for loopback or a management network. Without
/// `[admin] listen` there is none.
public struct AdminConfig: Sendable {
    /// Where it listens; `nil` for no admin listener.
    public var listen: HostPort?
    /// Clients beyond loopback that may use it. Default none: loopback only.
    public var allowedClients: [CIDR]

    public init(listen: HostPort? = nil, allowedClients: [CIDR] = []) {
        self.listen = listen
        self.allowedClients = allowedClients
    }

    /// Loopback networks, always allowed.
    static let loopback = [CIDR("127.0.0.0/8")!, CIDR("::1/128")!]
}

extension AdminConfig {
    /// The keys of `[admin]`.
    enum Key: String, ConfigKeys {
        case listen
        case allowedClients = "allowed_clients"
    }

    init(decoding table: ConfigTable<Key>) {
        self.init(
            listen: table.parsed(.listen, HostPort.listenAddress),
            allowedClients: table.array(.allowedClients, CIDR.parseClientNetwork) ?? []
        )
    }
}
