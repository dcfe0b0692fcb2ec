import NIOCore
import NIOHTTP1

/// The proxy's header rules: what crosses the gateway in each direction, and what it adds.
///
/// Built once per config snapshot; pure functions of their inputs, so they run on the event loop.
public final class HeaderRules: Sendable {
    /// Every header starting with this is treated as identity: never accepted from a client.
    static let identityPrefix = "x-auth-"

    /// Hop-by-hop headers (RFC 9110 §7.6.1) plus `Proxy-*`, which never cross a proxy.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Forwarding and tracing headers the gateway sets itself; client copies are dropped.
    static let gatewaySet: Set<String> = [
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip", "forwarded",
        "x-request-id", "expect", "content-length",
    ]

    /// Upstream response headers that reveal internals.
    static let revealing: Set<String> = ["server", "x-powered-by"]

    /// Names the gateway removes or sets on its own, which config must not reuse for identity.
    static let reservedUpstreamHeaders = hopByHop.union(gatewaySet).union(["host", "authorization", "cookie"])

    let trustedProxies: [CIDR]
    let securityHeaders: [(String, String)]
    /// Their names, lower-cased: upstream copies are dropped in favour of the gateway's.
    private let securityHeaderNames: Set<String>
    /// Where the verified identity goes upstream.
    let subjectHeader: String
    let scopesHeader: String
    let issuerHeader: String
    let claimHeaders: [ClaimHeader]
    /// Identity header names (lower-cased) never accepted from a client, besides the `x-auth-` prefix.
    let identityHeaders: Set<String>

    public init(trustedProxies: [CIDR], tls: TLSConfig, jwt: JWTConfig = JWTConfig()) {
        self.trustedProxies = trustedProxies
        self.subjectHeader = jwt.subjectHeader
        self.scopesHeader = jwt.scopesHeader
        self.issuerHeader = jwt.issuerHeader
        self.claimHeaders = jwt.claimHeaders
        self.identityHeaders = Set([jwt.subjectHeader, jwt.scopesHeader, jwt.issuerHeader].map { $0.lowercased() })
            .union(jwt.claimHeaders.map { $0.header.lowercased() })
        var security: [(String, String)] = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
        ]
        if tls.hsts {
            security.insert(("Strict-Transport-Security", "max-age=\(tls.hstsMaxAge.components.seconds)"), at: 0)
        }
        self.securityHeaders = security
        self.securityHeaderNames = Set(security.map { $0.0.lowercased() })
    }

    /// Whether the directly connected peer is a configured trusted proxy.
    public func isTrusted(_ peer: SocketAddress?) -> Bool {
        guard let peer else { return false }
        return trustedProxies.contains { $0.contains(peer) }
    }

    /// The client's address: the peer itself, or — only when the peer is a trusted proxy — the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
    public func clientAddress(peer: SocketAddress?, headers: HTTPHeaders) -> String {
        let peerIP = peer?.ipAddress ?? "unknown"
        guard isTrusted(peer) else { return peerIP }
        let chain = Self.forwardedChain(headers)
        for candidate in chain.reversed() {
            guard let address = try? SocketAddress(ipAddress: candidate, port: 0) else { return peerIP }
            if !trustedProxies.contains(where: { $0.contains(address) }) { return candidate }
        }
        return chain.first ?? peerIP
    }

    /// The request id: the client's `X-Request-ID` when a trusted proxy sent a well-formed one, else `generated`.
    public func requestID(peer: SocketAddress?, headers: HTTPHeaders, generated: () -> String) -> String {
        if isTrusted(peer), let sent = headers.first(name: "x-request-id"), Self.isWellFormedRequestID(sent) {
            return sent
        }
        return generated()
    }

    /// The header section sent upstream: hop-by-hop, identity and forwarding headers from the client
    /// removed, body framing re-stated, forwarding and identity headers added.
    public func upstreamRequestHeaders(
        _ client: HTTPHeaders,
        peer: SocketAddress?,
        requestID: String,
        framing: BodyFraming,
        identity: VerifiedIdentity?
    ) -> HTTPHeaders {
        let named = Self.connectionTokens(client)
        var out = HTTPHeaders()
        out.reserveCapacity(client.count + 6)
        for (name, value) in client {
            let lower = name.lowercased()
            // Names with `_` are dropped (as nginx does): CGI-style backends read `X_Auth_Subject`
            // as `X-Auth-Subject`.
            if Self.hopByHop.contains(lower) || Self.gatewaySet.contains(lower) || identityHeaders.contains(lower)
                || lower.hasPrefix(Self.identityPrefix) || lower.hasPrefix("proxy-") || lower.utf8.contains(UInt8(ascii: "_"))
                || (named.contains(lower) && lower != "host")
            {
                continue
            }
            out.add(name: name, value: value)
        }
        switch framing {
        case .none: break
        case .length(let length): out.add(name: "Content-Length", value: String(length))
        case .chunked: out.add(name: "Transfer-Encoding", value: "chunked")
        }
        let peerIP = peer?.ipAddress ?? "unknown"
        if isTrusted(peer) {
            let chain = Self.forwardedChain(client)
            out.add(name: "X-Forwarded-For", value: (chain + [peerIP]).joined(separator: ", "))
        } else {
            out.add(name: "X-Forwarded-For", value: peerIP)
        }
        out.add(name: "X-Forwarded-Proto", value: "https")
        if let host = client.first(name: "host") { out.add(name: "X-Forwarded-Host", value: host) }
        out.add(name: "X-Request-ID", value: requestID)
        if let identity {
            out.add(name: subjectHeader, value: identity.subject)
            out.add(name: scopesHeader, value: identity.scopes.joined(separator: " "))
            if let issuer = identity.issuer { out.add(name: issuerHeader, value: issuer) }
            for forwarded in claimHeaders {
                if let value = identity.claims[forwarded.claim], Self.isSafeHeaderValue(value) {
                    out.add(name: forwarded.header, value: value)
                }
            }
        }
        return out
    }

    /// The header section sent to the client for an upstream response.
    /// When the route's CORS is the gateway's (`ownsCORS`), the upstream's `Access-Control-*` headers are dropped.
    public func clientResponseHeaders(_ upstream: HTTPHeaders, requestID: String, ownsCORS: Bool = false) -> HTTPHeaders {
        let named = Self.connectionTokens(upstream)
        var out = HTTPHeaders()
        out.reserveCapacity(upstream.count + securityHeaders.count + 1)
        for (name, value) in upstream {
            let lower = name.lowercased()
            if Self.hopByHop.contains(lower) || Self.revealing.contains(lower) || lower.hasPrefix("proxy-")
                || named.contains(lower) || lower == "x-request-id" || securityHeaderNames.contains(lower)
                || (ownsCORS && lower.hasPrefix("access-control-"))
            {
                continue
            }
            out.add(name: name, value: value)
        }
        addGatewayHeaders(to: &out, requestID: requestID)
        return out
    }

    /// Security headers and the request id, on every answer: proxied or the gateway's own.
    public func addGatewayHeaders(to headers: inout HTTPHeaders, requestID: String) {
        for (name, value) in securityHeaders { headers.replaceOrAdd(name: name, value: value) }
        headers.replaceOrAdd(name: "X-Request-ID", value: requestID)
    }

    /// The header names a `Connection` header lists, lower-case: a few at most, so an array.
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        guard headers.contains(name: "connection") else { return [] }
        return headers[canonicalForm: "connection"].map { $0.trimmingASCIISpaces().lowercased() }
    }

    static func forwardedChain(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "x-forwarded-for"].map { String($0.trimmingASCIISpaces()) }.filter { !$0.isEmpty }
    }

    /// The host of a `Host` header (`name`, `name:port`, `[v6]` or `[v6]:port`) when it is well-formed.
    static func hostName(_ header: String) -> String? {
        let host: Substring
        let port: Substring
        if header.hasPrefix("[") {
            guard let close = header.firstIndex(of: "]") else { return nil }
            host = header[...close]
            port = header[header.index(after: close)...]
            let literal = host.dropFirst().dropLast()
            guard !literal.isEmpty, literal.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            let colon = header.firstIndex(of: ":") ?? header.endIndex
            host = header[..<colon]
            port = header[colon...]
            let isNameByte = { (byte: UInt8) in byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") }
            guard !host.isEmpty, host.utf8.count <= 253, host.utf8.allSatisfy(isNameByte) else { return nil }
        }
        if !port.isEmpty {
            let digits = port.dropFirst()
            guard port.first == ":", digits.utf8.allSatisfy({ (48...57).contains($0) }), digits.count <= 5,
                let number = Int(digits), (1...65535).contains(number)
            else { return nil }
        }
        return String(host)
    }

    /// Printable text that cannot break the header section (no CR, LF or other controls).
    static func isSafeHeaderValue(_ value: String) -> Bool {
        value.utf8.count <= 1024 && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }

    /// 1–128 characters of `[A-Za-z0-9._:-]`.
    static func isWellFormedRequestID(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
                UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}

/// How a request body is delimited on the wire.
public enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int64)
    case chunked
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var view = self
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return view
    }
}
