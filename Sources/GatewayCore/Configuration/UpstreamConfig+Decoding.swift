extension UpstreamConfig {
    /// The keys of an `[[upstream]]` entry.
    enum Key: String, ConfigKeys {
        case name
        case url
        case connectTimeout = "connect_timeout"
        case responseTimeout = "response_timeout"
        case maxIdleConnections = "max_idle_connections"
    }

    init(decoding table: ConfigTable<Key>) {
        // An empty name stands for a missing or invalid one, already reported.
        let defaults = UpstreamConfig(name: "", address: HostPort(host: "", port: 0))
        self.init(
            name: table.parsed(.name, required: true, Self.validateName) ?? defaults.name,
            address: table.parsed(.url, required: true, HostPort.upstreamURL) ?? defaults.address,
            connectTimeout: table.duration(.connectTimeout) ?? defaults.connectTimeout,
            responseTimeout: table.duration(.responseTimeout) ?? defaults.responseTimeout,
            maxIdleConnections: table.int(.maxIdleConnections, in: 0...1024) ?? defaults.maxIdleConnections
        )
    }

    private static func validateName(_ text: String) throws(ConfigValueProblem) -> String {
        let valid = !text.isEmpty && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        guard valid else {
            throw ConfigValueProblem("invalid name \(text.quotedForConfig)", allowed: #"lower-case letters, digits, "_" and "-""#)
        }
        return text
    }
}
