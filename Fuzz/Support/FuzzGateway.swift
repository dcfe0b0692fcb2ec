import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import GatewayCore

/// What the fuzz targets share: a gateway runtime with every request-head policy switched on,
/// built once per process from the test fixtures.
public enum FuzzGateway {
    /// `FUZZ_FIXTURES` names the folder of the test certificates (`Fuzz/run` sets it).
    public static let runtime: GatewayRuntime = {
        let fixtures = ProcessInfo.processInfo.environment["FUZZ_FIXTURES"] ?? "Tests/GatewayIntegrationTests/Fixtures"
        var api = RouteConfig(
            path: "/api", upstream: "app", scopes: ["read"], rateLimit: [RatePolicyConfig(limit: 1_000_000, period: .second, key: .ip)])
        api.cors = CORSConfig(allowedOrigins: [OriginPattern("https://app.example")!, OriginPattern("https://*.example.org")!])
        api.validation = ValidationConfig(maxQueryParams: 8, requiredHeaders: ["X-Client"])
        api.allowClients = [CIDR("10.0.0.0/8")!, CIDR("2001:db8::/32")!]
        let config = GatewayConfig(
            sourcePath: "fuzz",
            server: ServerConfig(trustedProxies: [CIDR("10.0.0.0/8")!]),
            tls: TLSConfig(certificatePath: fixtures + "/server-ec.crt", privateKeyPath: fixtures + "/server-ec.key"),
            jwt: JWTConfig(issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")]),
            upstreams: [UpstreamConfig(name: "app", targets: [HostPort(host: "127.0.0.1", port: 9)])],
            routes: [api, RouteConfig(path: "/public", upstream: "app", auth: .none, isPublic: true)])
        do {
            return try GatewayRuntime(config: config, environment: ["JWT_SECRET_KEY": String(repeating: "k", count: 32)])
        } catch {
            fatalError("fuzz runtime: \(error)")
        }
    }()

    /// Runs a request head through every check the gateway makes before forwarding; the answer
    /// does not matter, only that there is one and nothing breaks.
    public static func admit(_ head: HTTPRequestHead) {
        let peer = try? SocketAddress(ipAddress: "10.1.2.3", port: 4000)
        var request = RequestContext(
            id: "fuzz", head: head, client: runtime.headerRules.clientAddress(peer: peer, headers: head.headers), now: runtime.now())
        _ = try? RequestAdmission.admit(&request, peer: peer, runtime: runtime)
    }

    /// Parses `bytes` as HTTP/1.1 requests with the gateway's decoder settings and returns the
    /// heads NIO accepted.
    public static func parseHeads(_ bytes: [UInt8]) -> [HTTPRequestHead] {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 16 * 1024 + RequestAdmission.maximumTargetBytes
        limits.maxHeaderListSize = 16 * 1024 + RequestAdmission.maximumTargetBytes
        do {
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits)))
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            // A refusal by the decoder: whatever it produced before still counts.
        }
        var heads: [HTTPRequestHead] = []
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part { heads.append(head) }
        }
        return heads
    }
}
