import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The public keys of an issuer's JWKS URL: fetched within one overall deadline, refreshed in the
/// background (at the document's `Cache-Control: max-age`, else its `jwks_refresh`), and refetched
/// early — once, coalesced, at most every `refetchCooldown` — when a token names an unknown `kid`.
///
/// Requests read ``keys`` (a snapshot under a tiny lock) and never wait for the network. When a
/// refresh fails the last keys keep serving, for at most `jwks_max_stale` after they were fetched,
/// and the fetch is retried with exponential backoff; the last good document is kept in the store
/// so that a cold start works while the identity provider is down.
public final class RemoteKeySet: Service, Sendable {
    /// Shortest and longest refresh interval a `max-age` may set.
    static let refreshBounds: ClosedRange<Duration> = .seconds(60)...Duration.seconds(86_400)
    /// The whole fetch, from connecting to the last byte of the document.
    static let fetchDeadline = Duration.seconds(5)
    /// The first retry after a failed fetch; each further failure doubles it, up to ``maximumBackoff``
    /// (and never beyond the refresh interval).
    static let initialBackoff = Duration.seconds(5)
    static let maximumBackoff = Duration.seconds(300)
    /// Largest JWKS document accepted.
    static let maximumDocumentBytes = 1024 * 1024

    let url: String
    private let refreshInterval: Duration
    private let maxStale: Duration
    private let refetchCooldown: Duration
    private let store: (any GatewayStore)?
    private let client: HTTPClient
    private let logger: Logger
    private let state = Mutex(State())
    /// How often the background task looks for an early refetch request.
    private static let pollInterval = Duration.milliseconds(100)

    private struct State {
        var keys: [JWTKeys.PublicKey] = []
        /// When the keys were fetched; they stop serving ``maxStale`` later.
        var fetchedAt = Date.distantPast
        var refreshRequested = false
        var failures = 0
    }

    /// The key set of `issuer.jwks_url`. Its `jwks_ca_file` adds a trust root for the identity
    /// provider's certificate (tests, private CAs).
    public init(issuer: IssuerConfig, url: String, store: (any GatewayStore)?, logger: Logger, refetchCooldown: Duration = .seconds(30))
        throws
    {
        self.url = url
        self.refreshInterval = issuer.jwksRefresh
        self.maxStale = issuer.jwksMaxStale
        self.refetchCooldown = refetchCooldown
        self.store = store
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = issuer.jwksCAFile { tls.additionalTrustRoots = [.file(caFile)] }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(5))
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// One key set per distinct JWKS URL of `config`'s issuers.
    public static func keySets(for config: JWTConfig, store: (any GatewayStore)?, logger: Logger) throws -> [RemoteKeySet] {
        try config.issuers.compactMap { issuer in
            try issuer.jwksURL.map { try RemoteKeySet(issuer: issuer, url: $0, store: store, logger: logger) }
        }
    }

    /// The keys in force; empty until a fetch or the store produced some, and once they are
    /// older than `jwks_max_stale`.
    var keys: [JWTKeys.PublicKey] {
        state.withLock { state in
            Date().timeIntervalSince(state.fetchedAt) <= TimeInterval(maxStale.components.seconds) ? state.keys : []
        }
    }

    /// Whether keys are in force, for `/readyz`.
    public var hasKeys: Bool { !keys.isEmpty }

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
            publish(stored, fetchedAt: saved.fetchedAt)
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

    /// One fetch; on success publishes and stores the keys. Returns the delay until the next one:
    /// the document's max-age or the refresh interval, or after a failure the backoff.
    private func refresh() async -> Duration {
        do {
            let (document, headers) = try await fetch()
            let keys: [JWTKeys.PublicKey]
            do {
                keys = try JWTKeys.parseJWKS(document)
            } catch {
                throw FetchError(error.message)
            }
            let now = Date()
            publish(keys, fetchedAt: now)
            try? await store?.saveJWKS(source: url, document: document, fetchedAt: now)
            logger.info("JWKS refreshed", metadata: ["gateway.jwks_url": "\(url)", "gateway.jwks_keys": "\(keys.count)"])
            return Self.maxAge(headers) ?? refreshInterval
        } catch {
            let (failures, fetchedAt) = state.withLock { state in
                state.failures += 1
                return (state.failures, state.fetchedAt)
            }
            let backoff = Self.backoff(afterFailures: failures, refreshInterval: refreshInterval)
            let servingUntil =
                fetchedAt == .distantPast ? "none" : "\(fetchedAt.addingTimeInterval(TimeInterval(maxStale.components.seconds)))"
            logger.warning(
                "JWKS refresh failed; the last keys keep serving until they are jwks_max_stale old",
                metadata: [
                    "gateway.jwks_url": "\(url)", "gateway.error": "\(error)", "gateway.jwks_keys": "\(keys.count)",
                    "gateway.jwks_serving_until": "\(servingUntil)", "gateway.jwks_retry_in": "\(backoff)",
                ])
            return backoff
        }
    }

    /// The document and the response headers, all within ``fetchDeadline``.
    private func fetch() async throws -> (Data, HTTPHeaders) {
        try await withThrowingTaskGroup(of: (Data, HTTPHeaders)?.self) { group in
            group.addTask {
                var request = HTTPClientRequest(url: self.url)
                request.headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
                let response = try await self.client.execute(request, timeout: .seconds(Self.fetchDeadline.components.seconds))
                guard response.status == .ok else { throw FetchError("status \(response.status.code)") }
                let body = try await response.body.collect(upTo: Self.maximumDocumentBytes)
                return (Data(body.readableBytesView), response.headers)
            }
            group.addTask {
                try await Task.sleep(for: Self.fetchDeadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw FetchError("no complete answer within \(Self.fetchDeadline)")
            }
            return result
        }
    }

    /// The delay before retrying after `failures` failed fetches in a row.
    static func backoff(afterFailures failures: Int, refreshInterval: Duration) -> Duration {
        let doubled = initialBackoff * (1 << min(max(failures - 1, 0), 16))
        return min(doubled, maximumBackoff, refreshInterval)
    }

    private func publish(_ keys: [JWTKeys.PublicKey], fetchedAt: Date) {
        state.withLock { state in
            state.keys = keys
            state.fetchedAt = fetchedAt
            state.failures = 0
        }
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
