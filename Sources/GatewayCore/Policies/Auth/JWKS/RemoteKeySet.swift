import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The public keys of a JWKS URL: fetched with a timeout, refreshed in the background (at the
/// document's `Cache-Control: max-age`, else `jwt.jwks_refresh`), and refetched early — once,
/// coalesced, at most every `refetchCooldown` — when a token names an unknown `kid`.
///
/// Requests read ``keys`` (a snapshot under a tiny lock) and never wait for the network. When a
/// refresh fails the last keys keep serving; the last good document is kept in the store so that a
/// cold start works while the identity provider is down.
public final class RemoteKeySet: Service, Sendable {
    /// Shortest and longest refresh interval a `max-age` may set.
    static let refreshBounds: ClosedRange<Duration> = .seconds(60)...Duration.seconds(86_400)
    static let fetchTimeout = Duration.seconds(5)
    /// Largest JWKS document accepted.
    static let maximumDocumentBytes = 1024 * 1024

    let url: String
    private let refreshInterval: Duration
    private let refetchCooldown: Duration
    private let store: (any GatewayStore)?
    private let client: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())
    /// How often the background task looks for an early refetch request.
    private static let pollInterval = Duration.milliseconds(100)

    private struct State {
        var keys: [JWTKeys.PublicKey] = []
        var refreshRequested = false
    }

    /// `caFile` adds a trust root for the identity provider's certificate (tests, private CAs).
    public init(
        url: String, refreshInterval: Duration, caFile: String?, store: (any GatewayStore)?, logger: Logger,
        refetchCooldown: Duration = .seconds(30)
    ) throws {
        self.url = url
        self.refreshInterval = refreshInterval
        self.refetchCooldown = refetchCooldown
        self.store = store
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.additionalTrustRoots = [.file(caFile)] }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(5))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The keys in force; empty until a fetch or the store produced some.
    var keys: [JWTKeys.PublicKey] { state.withLock { $0.keys } }

    /// Asks for an early refetch (a token named an unknown `kid`); never waits.
    func requestRefresh() {
        state.withLock { $0.refreshRequested = true }
    }

    /// Loads the last good document from the store, then fetches; a failed fetch keeps what there is.
    /// Returns the delay until the next scheduled refresh.
    @discardableResult
    public func load() async -> Duration {
        if keys.isEmpty, let saved = try? await store?.lastGoodJWKS(source: url),
            let stored = try? JWTKeys.parseJWKS(saved.document)
        {
            publish(stored)
            logger.notice("using the stored JWKS until the identity provider answers", metadata: ["gateway.jwks_url": "\(url)"])
        }
        return await refresh()
    }

    /// Refreshes on schedule, and early when asked (at most once per `refetchCooldown`), until
    /// graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var nextRefresh = clock.now + (self.keys.isEmpty ? await self.load() : self.refreshInterval)
            var lastEarlyRefetch: ContinuousClock.Instant?
            while !Task.isCancelled {
                let requested = await self.waitForRefresh(until: nextRefresh, clock: clock)
                if requested, let last = lastEarlyRefetch, clock.now - last < self.refetchCooldown {
                    // Too soon after the last early refetch: keep the schedule, listen again later.
                    try? await Task.sleep(for: self.refetchCooldown - (clock.now - last))
                    self.state.withLock { $0.refreshRequested = false }
                    continue
                }
                if requested { lastEarlyRefetch = clock.now }
                self.state.withLock { $0.refreshRequested = false }
                nextRefresh = clock.now + (await self.refresh())
            }
        }
        try await client.shutdown()
    }

    /// Waits until `deadline`, or less when a refresh is requested; tells which happened.
    private func waitForRefresh(until deadline: ContinuousClock.Instant, clock: ContinuousClock) async -> Bool {
        while clock.now < deadline, !Task.isCancelled {
            if state.withLock({ $0.refreshRequested }) { return true }
            try? await Task.sleep(for: min(Self.pollInterval, deadline - clock.now))
        }
        return false
    }

    /// One fetch; on success publishes and stores the keys. Returns the delay until the next one.
    private func refresh() async -> Duration {
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
            let response = try await client.execute(request, timeout: .seconds(Self.fetchTimeout.components.seconds))
            guard response.status == .ok else { throw FetchError("status \(response.status.code)") }
            let body = try await response.body.collect(upTo: Self.maximumDocumentBytes)
            let document = Data(body.readableBytesView)
            let keys: [JWTKeys.PublicKey]
            do {
                keys = try JWTKeys.parseJWKS(document)
            } catch {
                throw FetchError(error.message)
            }
            publish(keys)
            try? await store?.saveJWKS(source: url, document: document, fetchedAt: Date())
            logger.info("JWKS refreshed", metadata: ["gateway.jwks_url": "\(url)", "gateway.jwks_keys": "\(keys.count)"])
            return Self.maxAge(response.headers) ?? refreshInterval
        } catch {
            logger.warning(
                "JWKS refresh failed; the last keys keep serving",
                metadata: ["gateway.jwks_url": "\(url)", "error": "\(error)", "gateway.jwks_keys": "\(keys.count)"])
            return min(refreshInterval, Self.refreshBounds.lowerBound)
        }
    }

    private func publish(_ keys: [JWTKeys.PublicKey]) {
        state.withLock { $0.keys = keys }
    }

    /// `Cache-Control: max-age`, clamped to ``refreshBounds``.
    static func maxAge(_ headers: HTTPHeaders) -> Duration? {
        for directive in headers[canonicalForm: "cache-control"] {
            let parts = directive.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingASCIISpaces().lowercased() == "max-age",
                let seconds = Int64(parts[1].trimmingASCIISpaces())
            else { continue }
            return min(max(.seconds(seconds), refreshBounds.lowerBound), refreshBounds.upperBound)
        }
        return nil
    }

    private struct FetchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
