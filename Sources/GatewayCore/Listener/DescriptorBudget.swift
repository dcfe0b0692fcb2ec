/// How many file descriptors the configuration may need, and the `max_connections` that fits the
/// process's limit (`RLIMIT_NOFILE`), so that no listener can take the descriptors the data plane
/// needs.
///
/// Each client connection may hold one upstream connection (2 × `max_connections`); pools keep
/// idle upstream connections beyond those; the admin listener has its own cap; and ``reserve``
/// covers the rest: listening sockets, the store's files, log output, health probes, JWKS fetches
/// and the event loops' own descriptors. When the limit is below the need, `max_connections` is
/// lowered until the need fits.
public struct DescriptorBudget: Equatable, Sendable {
    /// Descriptors kept for everything that is not a connection of a listener or its upstream.
    public static let reserve = 256

    /// The process's descriptor limit the budget was made for.
    public let limit: Int
    /// What the configuration needs at its own `max_connections`.
    public let needed: Int
    /// `max_connections` as configured.
    public let configuredMaxConnections: Int
    /// `max_connections` in force: the configured one, or less so that the need fits `limit`.
    public let maxConnections: Int

    /// The budget for `limit` descriptors, `maxConnections` client connections,
    /// `adminMaxConnections` admin connections and `idleUpstreamConnections` pooled ones at most.
    public init(limit: Int, maxConnections: Int, adminMaxConnections: Int, idleUpstreamConnections: Int) {
        let fixed = adminMaxConnections + idleUpstreamConnections + Self.reserve
        self.limit = limit
        self.configuredMaxConnections = maxConnections
        self.needed = maxConnections > (Int.max - fixed) / 2 ? Int.max : 2 * maxConnections + fixed
        self.maxConnections = needed <= limit ? maxConnections : max(1, (limit - fixed) / 2)
    }

    /// The budget for `config` on `eventLoops` loops (each keeps its own idle upstream pool).
    public init(limit: Int, config: GatewayConfig, eventLoops: Int) {
        let idle = config.upstreams.reduce(0) { $0 + $1.targets.count * $1.maxIdleConnections } * eventLoops
        self.init(
            limit: limit, maxConnections: config.server.maxConnections,
            adminMaxConnections: config.admin.listen == nil ? 0 : config.admin.maxConnections, idleUpstreamConnections: idle)
    }

    /// Whether `max_connections` had to be lowered to fit.
    public var lowersMaxConnections: Bool { maxConnections < configuredMaxConnections }
}
