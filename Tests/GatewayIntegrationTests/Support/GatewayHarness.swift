import AsyncHTTPClient
import Foundation
import GatewayCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A real gateway, in process, on an ephemeral TLS port, with a real HTTPS client that trusts the test CA.
struct GatewayHarness {
    let server: GatewayServer
    let addresses: GatewayServer.BoundAddresses
    let client: HTTPClient
    /// The store behind the audit trail, revocations and stored JWKS: a real in-memory SQLite store
    /// unless the test gives another.
    let store: any GatewayStore
    let recorder: AuditRecorder
    let revocations: RevocationList
    /// Builds a runtime for another config around the same store, keys and limiter, as a reload does.
    let makeRuntime: @Sendable (GatewayConfig) throws -> GatewayRuntime

    var port: Int { addresses.tls.port! }

    var baseURL: String { "https://localhost:\(port)" }

    /// A config with the test certificate and one upstream per `upstreams` entry (name → port).
    static func config(upstreams: [String: Int], routes: [RouteConfig]) -> GatewayConfig {
        GatewayConfig(
            sourcePath: "test",
            server: ServerConfig(listen: HostPort(host: "127.0.0.1", port: 0)),
            tls: TLSConfig(certificatePath: Fixtures.serverCertificate, privateKeyPath: Fixtures.serverKey),
            jwt: JWTConfig(issuers: [IssuerConfig(issuer: "userservice", audience: "gateway")]),
            upstreams: upstreams.map { name, port in
                UpstreamConfig(
                    name: name, targets: [HostPort(host: "127.0.0.1", port: port)], connectTimeout: .seconds(5),
                    responseTimeout: .seconds(15))
            },
            routes: routes)
    }

    /// Starts a gateway for `config` with its audit recorder and revocation list running, runs `body`,
    /// and always shuts everything down.
    /// `now` is the clock the gateway's policies read (token times, rate limits); the real one by default.
    static func with<T>(
        _ config: GatewayConfig,
        store: (any GatewayStore)? = nil,
        now: @escaping @Sendable () -> Date = { Date() },
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .error  // the access log and security events would drown the test output
        let store = try store ?? SQLiteStore.inMemory()
        let recorder = AuditRecorder(store: store, logger: logger)
        let revocations = RevocationList(store: store, refreshInterval: .milliseconds(200), logger: logger)
        try await revocations.refresh()
        let remoteKeys = try RemoteKeySet.keySets(for: config.jwt, store: store, logger: logger)
        for keySet in remoteKeys { await keySet.load() }
        let rateLimiter = RateLimiter(maxKeys: config.rateLimit.maxKeys)
        let rateLimits = RateLimitPersistence(limiter: rateLimiter, store: store, logger: logger)
        try await rateLimits.restore()
        let usernameFingerprint = UsernameFingerprint(key: try await store.installKey())
        let build: @Sendable (GatewayConfig, LoginGuard?) throws -> GatewayRuntime = { config, loginGuard in
            try GatewayRuntime(
                config: config, environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret], revocations: revocations,
                remoteKeys: remoteKeys, usernameFingerprint: usernameFingerprint, rateLimiter: rateLimiter,
                loginGuard: loginGuard, now: now)
        }
        let runtime = try build(config, nil)
        // A reload keeps the limiter and the login guard, as `serve` does.
        let makeRuntime: @Sendable (GatewayConfig) throws -> GatewayRuntime = { try build($0, runtime.loginGuard) }
        let server = GatewayServer(runtime: runtime, recorder: recorder, logger: logger)
        let background = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await recorder.run() }
                group.addTask { await revocations.run() }
                group.addTask { await rateLimits.run() }
                for keySet in remoteKeys { group.addTask { try? await keySet.run() } }
            }
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.clientConfiguration())
        func stop() async {
            try? await client.shutdown()
            try? await server.shutdown()
            background.cancel()
            await background.value
        }
        do {
            let addresses = try await server.start()
            let harness = GatewayHarness(
                server: server, addresses: addresses, client: client, store: store, recorder: recorder, revocations: revocations,
                makeRuntime: makeRuntime)
            let result = try await body(harness)
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    /// The audit events recorded so far, newest first, after flushing the recorder.
    func auditEvents() async throws -> [AuditEvent] {
        await recorder.flush()
        return try await store.auditEvents(AuditQuery(limit: 1000)).map(\.event)
    }

    /// How the audit trail names `username` (already normalised), under the store's install key.
    func usernameFingerprint(_ username: String) async throws -> String {
        UsernameFingerprint(key: try await store.installKey()).of(username)
    }

    static func clientConfiguration() -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(Fixtures.caCertificate)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // The suites written for HTTP/1.1 (keep-alive, `Connection`, pipelining) keep testing it;
        // HTTP2Tests speak HTTP/2 with curl and a raw frame client.
        configuration.httpVersion = .http1Only
        // Generous: a request waiting for a pooled connection counts against connect, and a full
        // parallel run on two cores can keep it waiting for seconds.
        configuration.timeout = .init(connect: .seconds(20), read: .seconds(30))
        return configuration
    }

    /// Sends a GET and collects the whole answer.
    func send(_ path: String, headers: HTTPHeaders = [:], token: String? = nil) async throws -> TestResponse {
        try await send(.GET, path, headers: headers, token: token)
    }

    /// Sends a request and collects the whole answer (small bodies only).
    func send(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: String? = nil,
        token: String? = nil
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers = headers
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(string: body))
            if !request.headers.contains(name: "content-type") {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return TestResponse(status: response.status, headers: response.headers, body: String(buffer: bytes))
    }
}

/// A collected response.
struct TestResponse {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: String

    /// The body parsed as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }

    /// For `/echo` answers of ``TestUpstream``: the headers the upstream received, lower-cased names.
    var upstreamHeaders: [(String, String)] {
        (json["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }
    }

    func upstreamHeader(_ name: String) -> [String] {
        upstreamHeaders.filter { $0.0 == name.lowercased() }.map(\.1)
    }
}

extension GatewayHarness {
    /// Sends a GET and reads the whole answer; returns its status and how long that took.
    func timedGET(_ path: String) async throws -> (status: HTTPResponseStatus, latency: Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await client.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 64 * 1024)
        return (response.status, clock.now - start)
    }
}
