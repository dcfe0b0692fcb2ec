extension RateLimitConfig {
    /// The keys of `[rate_limit]`.
    enum Key: String, ConfigKeys {
        case `default`
        case ipv6Prefix = "ipv6_prefix"
        case maxKeys = "max_keys"
        case responseHeaders = "response_headers"
    }

    init(decoding table: ConfigTable<Key>) {
        let defaults = RateLimitConfig()
        self.init(
            defaultPolicies: RatePolicyConfig.list(table, .default) ?? defaults.defaultPolicies,
            ipv6Prefix: table.int(.ipv6Prefix, in: 32...128) ?? defaults.ipv6Prefix,
            maxKeys: table.int(.maxKeys, in: 1_000...10_000_000) ?? defaults.maxKeys,
            responseHeaders: table.bool(.responseHeaders) ?? defaults.responseHeaders
        )
    }
}

extension RatePolicyConfig {
    /// The keys of a policy written as an inline table.
    enum Key: String, ConfigKeys {
        case rate
        case key
        case mode
    }

    static let rateFormat = #""N/second", "N/minute", "N/hour" or "N/day", N from 1 to 1000000000"#
    static let keyFormat = #"ip, subject, subject_or_ip, header:NAME, claim:NAME"#

    /// A list of policies at `key`: each `"50/hour"` (keyed by subject_or_ip, enforced) or
    /// `{ rate = "50/hour", key = "ip", mode = "shadow" }`. Two policies of one list may not share
    /// both their period and their key: they would count the same requests under one counter.
    static func list<TableKey>(_ table: ConfigTable<TableKey>, _ key: TableKey) -> [RatePolicyConfig]? {
        let policies = table.array(key, { text throws(ConfigValueProblem) in try RatePolicyConfig(rate: text) }, or: Key.self) {
            RatePolicyConfig(decoding: $0)
        }
        for (index, policy) in (policies ?? []).enumerated() {
            if policies![..<index].contains(where: { $0.period == policy.period && $0.key == policy.key }) {
                table.context.report(
                    table.elementPath(key, index), "another policy already counts per \(policy.period.rawValue) by \(policy.key)")
            }
        }
        return policies
    }

    /// `"N/unit"`, keyed by subject_or_ip and enforced.
    init(rate text: String) throws(ConfigValueProblem) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let limit = Int(parts[0]),
            (1...1_000_000_000).contains(limit), let period = RatePeriod(rawValue: String(parts[1]))
        else {
            throw ConfigValueProblem("invalid rate \(text.quotedForConfig)", allowed: Self.rateFormat)
        }
        self.init(limit: limit, period: period)
    }

    private init?(decoding table: ConfigTable<Key>) {
        guard let rate = table.parsed(.rate, required: true, { text throws(ConfigValueProblem) in try RatePolicyConfig(rate: text) })
        else { return nil }
        let key = table.parsed(.key, Self.parseKey)
        let mode: RateLimitMode? = table.choice(.mode)
        if (table.contains(.key) && key == nil) || (table.contains(.mode) && mode == nil) { return nil }
        self.init(limit: rate.limit, period: rate.period, key: key ?? .subjectOrIP, mode: mode ?? .enforce)
    }

    private static func parseKey(_ text: String) throws(ConfigValueProblem) -> RateLimitKey {
        switch text {
        case "ip": return .ip
        case "subject": return .subject
        case "subject_or_ip": return .subjectOrIP
        default: break
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw ConfigValueProblem("unsupported key \(text.quotedForConfig)", allowed: keyFormat)
        }
        switch parts[0] {
        case "header":
            guard parts[1].utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") }) else {
                throw ConfigValueProblem("\(parts[1].quotedForConfig) is not a valid header name", allowed: "letters, digits and -")
            }
            return .header(parts[1].lowercased())
        case "claim":
            let isNameByte = { (byte: UInt8) in byte.isASCIIAlphanumeric || "_-.:".utf8.contains(byte) }
            guard parts[1].utf8.allSatisfy(isNameByte) else {
                throw ConfigValueProblem("\(parts[1].quotedForConfig) is not a supported claim name", allowed: "letters, digits, _ - . :")
            }
            return .claim(parts[1])
        default:
            throw ConfigValueProblem("unsupported key \(text.quotedForConfig)", allowed: keyFormat)
        }
    }
}
