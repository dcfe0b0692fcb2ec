import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("Header rules")
struct HeaderRulesTests {
    let rules = HeaderRules(
        trustedProxies: [CIDR("10.0.0.0/8")!],
        tls: TLSConfig(certificatePath: "c", privateKeyPath: "k"))
    let untrustedPeer = try! SocketAddress(ipAddress: "203.0.113.9", port: 5000)
    let trustedPeer = try! SocketAddress(ipAddress: "10.1.2.3", port: 5000)
    let identity = VerifiedIdentity(subject: "42", scopes: ["user", "admin"], expiresAt: .distantFuture)

    func upstream(_ headers: HTTPHeaders, peer: SocketAddress? = nil, identity: VerifiedIdentity? = nil, framing: BodyFraming = .none)
        -> HTTPHeaders
    {
        rules.upstreamRequestHeaders(headers, peer: peer ?? untrustedPeer, requestID: "rid", framing: framing, identity: identity)
    }

    @Test("hop-by-hop headers and those named in Connection are removed")
    func hopByHop() {
        let out = upstream([
            "Host": "h", "Connection": "keep-alive, X-Secret", "Keep-Alive": "timeout=5", "TE": "trailers",
            "Trailer": "x", "Upgrade": "websocket", "Proxy-Authorization": "Basic x", "Proxy-Connection": "close",
            "X-Secret": "1", "Accept": "*/*",
        ])
        for name in ["connection", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection", "x-secret"] {
            #expect(!out.contains(name: name), "\(name) crossed the proxy")
        }
        #expect(out["accept"] == ["*/*"])
        #expect(out["host"] == ["h"])
    }

    @Test("client-sent identity headers never reach the upstream")
    func identityStripped() {
        let anonymous = upstream(["X-Auth-Subject": "admin", "x-auth-scopes": "admin"])
        #expect(!anonymous.contains(name: "x-auth-subject"))
        #expect(!anonymous.contains(name: "x-auth-scopes"))
        let verified = upstream(["X-Auth-Subject": "admin"], identity: identity)
        #expect(verified["x-auth-subject"] == ["42"])
        #expect(verified["x-auth-scopes"] == ["user admin"])
    }

    @Test("X-Forwarded-For from an untrusted peer is replaced by the peer address")
    func forwardedForUntrusted() {
        let out = upstream(["X-Forwarded-For": "1.2.3.4", "X-Real-IP": "1.2.3.4", "Forwarded": "for=1.2.3.4"])
        #expect(out["x-forwarded-for"] == ["203.0.113.9"])
        #expect(!out.contains(name: "x-real-ip"))
        #expect(!out.contains(name: "forwarded"))
        #expect(rules.clientAddress(peer: untrustedPeer, headers: ["X-Forwarded-For": "1.2.3.4"]) == "203.0.113.9")
    }

    @Test("a trusted proxy's X-Forwarded-For is appended to and selects the client")
    func forwardedForTrusted() {
        let headers: HTTPHeaders = ["X-Forwarded-For": "198.51.100.7, 10.9.9.9"]
        #expect(upstream(headers, peer: trustedPeer)["x-forwarded-for"] == ["198.51.100.7, 10.9.9.9, 10.1.2.3"])
        #expect(rules.clientAddress(peer: trustedPeer, headers: headers) == "198.51.100.7")
        #expect(rules.clientAddress(peer: trustedPeer, headers: [:]) == "10.1.2.3")
    }

    @Test("forwarding headers and the request id are set by the gateway")
    func forwardingHeaders() {
        let out = upstream(["Host": "api.example", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil", "X-Request-ID": "abc"])
        #expect(out["x-forwarded-proto"] == ["https"])
        #expect(out["x-forwarded-host"] == ["api.example"])
        #expect(out["x-request-id"] == ["rid"])
    }

    @Test("body framing is restated, never copied")
    func framing() {
        let chunked = upstream(["Transfer-Encoding": "chunked", "Content-Length": "5"], framing: .chunked)
        #expect(chunked["transfer-encoding"] == ["chunked"])
        #expect(!chunked.contains(name: "content-length"))
        let sized = upstream(["Content-Length": "5"], framing: .length(5))
        #expect(sized["content-length"] == ["5"])
    }

    @Test("a request id is kept only from a trusted proxy and only when well-formed")
    func requestID() {
        #expect(rules.requestID(peer: trustedPeer, headers: ["X-Request-ID": "abc-123"]) { "gen" } == "abc-123")
        #expect(rules.requestID(peer: untrustedPeer, headers: ["X-Request-ID": "abc-123"]) { "gen" } == "gen")
        #expect(rules.requestID(peer: trustedPeer, headers: ["X-Request-ID": "bad id\u{7f}"]) { "gen" } == "gen")
        #expect(rules.requestID(peer: trustedPeer, headers: ["X-Request-ID": String(repeating: "a", count: 129)]) { "gen" } == "gen")
    }

    @Test("responses lose Server and X-Powered-By and gain the security headers")
    func responseHeaders() {
        let out = rules.clientResponseHeaders(
            [
                "Server": "nginx/1.2", "X-Powered-By": "PHP", "Content-Type": "text/plain", "Connection": "close",
                "Transfer-Encoding": "chunked", "Strict-Transport-Security": "max-age=0",
            ],
            requestID: "rid")
        #expect(!out.contains(name: "server"))
        #expect(!out.contains(name: "x-powered-by"))
        #expect(!out.contains(name: "connection"))
        #expect(!out.contains(name: "transfer-encoding"))
        #expect(out["strict-transport-security"] == ["max-age=31536000"])
        #expect(out["x-content-type-options"] == ["nosniff"])
        #expect(out["referrer-policy"] == ["no-referrer"])
        #expect(out["x-frame-options"] == ["DENY"])
        #expect(out["x-request-id"] == ["rid"])
        #expect(out["content-type"] == ["text/plain"])
    }

    @Test("HSTS can be turned off")
    func hstsOff() {
        let rules = HeaderRules(trustedProxies: [], tls: TLSConfig(certificatePath: "c", privateKeyPath: "k", hsts: false))
        #expect(!rules.clientResponseHeaders([:], requestID: "r").contains(name: "strict-transport-security"))
    }
}
