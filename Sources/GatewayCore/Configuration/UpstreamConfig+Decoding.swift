extension UpstreamConfig {
    /// The keys of an `[[upstream]]` entry.
    enum Key: String, ConfigKeys {
        case name
        case url
        case targets
        case connectTimeout = "connect_timeout"
        case responseTimeout = "response_timeout"
        case maxIdleConnections = "max_idle_connections"
        case maxConnections = "max_connections"
        case queueTimeout = "queue_timeout"
        case healthCheck = "health_check"
    }

    init(decoding table: ConfigTable<Key>) {
        // An empty name stands for a missing or invalid one, already reported.
        let defaults = UpstreamConfig(name: "", targets: [])
        self.init(
            name: table.parsed(.name, required: true, Self.validateName) ?? defaults.name,
            targets: Self.targets(table),
            connectTimeout: table.duration(.connectTimeout) ?? defaults.connectTimeout,
            responseTimeout: table.duration(.responseTimeout) ?? defaults.responseTimeout,
            maxIdleConnections: table.int(.maxIdleConnections, in: 0...1024) ?? defaults.maxIdleConnections,
            maxConnections: table.int(.maxConnections, in: 1...100_000) ?? defaults.maxConnections,
            queueTimeout: table.duration(.queueTimeout, atMost: .seconds(60)) ?? defaults.queueTimeout,
            healthCheck: HealthCheckConfig(decoding: table.section(.healthCheck))
        )
    }

    /// `url` for one target or `targets` for several: exactly one of the two, without repeats.
    private static func targets(_ table: ConfigTable<Key>) -> [HostPort] {
        switch (table.contains(.url), table.contains(.targets)) {
        case (true, true):
            table.report(.targets, "set either url or targets, not both")
            return []
        case (false, false):
            table.report(.url, "missing required key (or targets, for several)")
            return []
        case (true, false):
            return table.parsed(.url, HostPort.upstreamURL).map { [$0] } ?? []
        case (false, true):
            guard let targets = table.array(.targets, HostPort.upstreamURL) else { return [] }
            if targets.isEmpty { table.report(.targets, "at least one target is required") }
            for (index, target) in targets.enumerated() where targets[..<index].contains(target) {
                table.report(.targets, "\(target) is listed twice")
            }
            return targets
        }
    }

    private static func validateName(_ text: String) throws(ConfigValueProblem) -> String {
        let valid =
            !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
        guard valid else {
            throw ConfigValueProblem("invalid name \(text.quotedForConfig)", allowed: #"lower-case letters, digits, "_" and "-""#)
        }
        return text
    }
}

extension HealthCheckConfig {
    /// The keys of an upstream's `health_check` table.
    enum Key: String, ConfigKeys {
        case path
        case interval
        case timeout
        case unhealthyAfter = "unhealthy_after"
        case healthyAfter = "healthy_after"
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = HealthCheckConfig()
        let interval = table.duration(.interval, atMost: .seconds(3600)) ?? defaults.interval
        let timeout = table.duration(.timeout, atMost: .seconds(60)) ?? defaults.timeout
        if interval < .milliseconds(100) { table.report(.interval, "\(interval.configDescription) is too short", allowed: "100ms or more") }
        if timeout > interval { table.report(.timeout, "longer than the interval (\(interval.configDescription))") }
        self.init(
            path: table.parsed(.path, Self.validatePath),
            interval: interval,
            timeout: timeout,
            unhealthyAfter: table.int(.unhealthyAfter, in: 1...100) ?? defaults.unhealthyAfter,
            healthyAfter: table.int(.healthyAfter, in: 1...100) ?? defaults.healthyAfter
        )
    }

    private static func validatePath(_ text: String) throws(ConfigValueProblem) -> String {
        let valid = text.hasPrefix("/") && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        guard valid else {
            throw ConfigValueProblem("invalid path \(text.quotedForConfig)", allowed: "an absolute path such as \"/healthz\"")
        }
        return text
    }
}
