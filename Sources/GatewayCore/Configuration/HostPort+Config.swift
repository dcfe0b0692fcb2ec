#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension HostPort {
    private static let listenFormat = "host:port or [ipv6]:port, port 0..65535"
    private static let upstreamFormat = "http://host:port"

    /// Parses a listener address, `host:port` or `[ipv6]:port`; port 0 asks for any free port.
    static func listenAddress(_ text: String) throws(ConfigValueProblem) -> HostPort {
        let invalid = ConfigValueProblem("invalid address \(text.quotedForConfig)", allowed: listenFormat)
        guard
            let (host, portText) = splitHostPort(Substring(text)),
            let portText, let port = parsePort(portText), port <= 65_535
        else { throw invalid }
        return HostPort(host: host, port: port)
    }

    /// Parses an upstream URL: `http://host:port` with an optional `/` and nothing else.
    static func upstreamURL(_ text: String) throws(ConfigValueProblem) -> HostPort {
        func refuse(_ message: String) -> ConfigValueProblem {
            ConfigValueProblem(message, allowed: upstreamFormat)
        }
        guard let schemeEnd = text.firstRange(of: "://") else {
            throw refuse("invalid URL \(text.quotedForConfig)")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" else {
            throw scheme == "https"
                ? refuse("https is not supported: upstreams are plain HTTP on a private network")
                : refuse("unsupported scheme \(scheme.quotedForConfig)")
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@") else { throw refuse("user information is not allowed") }
        guard let (host, portText) = splitHostPort(authority) else {
            throw refuse("invalid host in \(text.quotedForConfig)")
        }
        guard let portText else { throw refuse("missing port") }
        guard let port = parsePort(portText), (1...65_535).contains(port) else {
            throw ConfigValueProblem("port \(portText) is out of range", allowed: "1..65535")
        }
        let tail = rest[authorityEnd...]
        let pathEnd = tail.firstIndex { $0 == "?" || $0 == "#" } ?? tail.endIndex
        let path = tail[..<pathEnd]
        guard path.isEmpty || path == "/" else { throw refuse("a path (\(path)) is not allowed") }
        guard !tail.contains("?") else { throw refuse("a query is not allowed") }
        guard !tail.contains("#") else { throw refuse("a fragment is not allowed") }
        return HostPort(host: host, port: port)
    }

    /// Splits `host[:port]` or `[ipv6][:port]`; `nil` if the host is not an IP literal or a
    /// plausible DNS name. The port text, if any, is not checked.
    private static func splitHostPort(_ text: Substring) -> (host: String, port: Substring?)? {
        let host: Substring
        let afterHost: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            afterHost = text[text.index(after: close)...]
            guard CIDR.addressBytes(String(host), family: AF_INET6) != nil else { return nil }
        } else {
            let colon = text.firstIndex(of: ":") ?? text.endIndex
            host = text[..<colon]
            afterHost = text[colon...]
            guard isHostName(host) else { return nil }
        }
        if afterHost.isEmpty { return (String(host), nil) }
        guard afterHost.hasPrefix(":") else { return nil }
        return (String(host), afterHost.dropFirst())
    }

    private static func parsePort(_ text: Substring) -> Int? {
        guard (1...5).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// A DNS name or dotted-quad IPv4 address: dot-separated labels of letters, digits and
    /// inner hyphens; an all-numeric name must be a valid IPv4 address.
    private static func isHostName(_ text: Substring) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed =
            !text.isEmpty && text.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
        guard wellFormed else { return false }
        guard labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return true }
        return CIDR.addressBytes(String(text), family: AF_INET) != nil
    }
}
