extension ServerConfig {
    /// The keys of `[server]`.
    enum Key: String, ConfigKeys {
        case listen
        case redirectHTTPListen = "redirect_http_listen"
        case acmeChallengeDir = "acme_challenge_dir"
        case trustedProxies = "trusted_proxies"
        case maxHeaderBytes = "max_header_bytes"
        case maxBodyBytes = "max_body_bytes"
        case idleTimeout = "idle_timeout"
        case requestHeaderTimeout = "request_header_timeout"
        case requestBodyTimeout = "request_body_timeout"
        case requestBodyMinRate = "request_body_min_rate"
        case maxConnections = "max_connections"
        case maxConnectionsPerClient = "max_connections_per_client"
        case heldBodyBudget = "held_body_budget"
        case drainTimeout = "drain_timeout"
        case http2
        case http2MaxConcurrentStreams = "http2_max_concurrent_streams"
        case nodeName = "node_name"
    }

    static let headerBytesRange = ByteSize(bytes: 1 << 10)...ByteSize(bytes: 64 << 10)
    /// At least one stream, so that a connection can serve a request; at most what one client
    /// connection may reasonably hold open (each open stream can take a request body window).
    static let http2StreamsRange = 1...1_000

    init(decoding table: ConfigTable<Key>) {
        let defaults = ServerConfig()
        let listen = table.parsed(.listen, HostPort.listenAddress) ?? defaults.listen
        let redirectHTTPListen = table.parsed(.redirectHTTPListen, HostPort.listenAddress)
        if let redirectHTTPListen, redirectHTTPListen == listen, listen.port != 0 {
            table.report(.redirectHTTPListen, "\(redirectHTTPListen) is also server.listen")
        }
        self.init(
            listen: listen,
            redirectHTTPListen: redirectHTTPListen,
            acmeChallengeDir: table.filePath(.acmeChallengeDir),
            trustedProxies: table.array(.trustedProxies, Self.parseProxy) ?? defaults.trustedProxies,
            maxHeaderBytes: table.byteSize(.maxHeaderBytes, in: Self.headerBytesRange).map { Int($0.bytes) }
                ?? defaults.maxHeaderBytes,
            maxBodyBytes: table.byteSize(.maxBodyBytes, in: ByteSize(bytes: 1)...ByteSize(bytes: .max))?.bytes
                ?? defaults.maxBodyBytes,
            idleTimeout: table.duration(.idleTimeout) ?? defaults.idleTimeout,
            requestHeaderTimeout: table.duration(.requestHeaderTimeout) ?? defaults.requestHeaderTimeout,
            requestBodyTimeout: table.duration(.requestBodyTimeout) ?? defaults.requestBodyTimeout,
            requestBodyMinRate: table.byteSize(.requestBodyMinRate, in: ByteSize(bytes: 0)...ByteSize(bytes: 1 << 30))
                .map { Int($0.bytes) } ?? defaults.requestBodyMinRate,
            maxConnections: table.int(.maxConnections, in: 1...Int.max) ?? defaults.maxConnections,
            heldBodyBudget: table.byteSize(.heldBodyBudget, in: ByteSize(bytes: 1 << 20)...ByteSize(bytes: .max))?.bytes
                ?? defaults.heldBodyBudget,
            maxConnectionsPerClient: table.int(.maxConnectionsPerClient, in: 1...Int.max) ?? defaults.maxConnectionsPerClient,
            drainTimeout: table.duration(.drainTimeout, atMost: .seconds(600)) ?? defaults.drainTimeout,
            http2: table.bool(.http2) ?? defaults.http2,
            http2MaxConcurrentStreams: table.int(.http2MaxConcurrentStreams, in: Self.http2StreamsRange)
                ?? defaults.http2MaxConcurrentStreams,
            nodeName: table.parsed(.nodeName, Self.parseNodeName) ?? defaults.nodeName
        )
    }

    /// Letters, digits, `.`, `-` and `_`, at most 64: it is printed in audit rows and queries.
    private static func parseNodeName(_ text: String) throws(ConfigValueProblem) -> String {
        let allowed = text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_")
        }
        guard allowed, (1...64).contains(text.utf8.count) else {
            throw ConfigValueProblem("invalid node name \(text.quotedForConfig)", allowed: "1 to 64 letters, digits, '.', '-', '_'")
        }
        return text
    }

    private static func parseProxy(_ text: String) throws(ConfigValueProblem) -> CIDR {
        guard let cidr = CIDR(text) else {
            throw ConfigValueProblem(
                "invalid CIDR \(text.quotedForConfig)",
                allowed: #"an IPv4 or IPv6 address with an optional /prefix, e.g. "10.0.0.0/8""#
            )
        }
        guard cidr.prefixLength > 0 else {
            throw ConfigValueProblem(
                "\(text.quotedForConfig) trusts every address: any client could choose its own X-Forwarded-For",
                allowed: "the proxies' own addresses or networks")
        }
        return cidr
    }
}
