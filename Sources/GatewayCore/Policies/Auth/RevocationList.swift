import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The revocations in force: refreshed from the store in the background, read on every request.
///
/// `gateway token revoke` writes to the store; a running gateway sees the change within one
/// refresh interval (1 s by default) without a reload.
public final class RevocationList: Service, Sendable {
    private let store: any GatewayStore
    private let refreshInterval: Duration
    private let logger: Logger
    private let current = Mutex(RevokedTokens())

    public init(store: any GatewayStore, refreshInterval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// Reads every revocation from the store and publishes them.
    public func refresh() async throws {
        let revoked = RevokedTokens(try await store.revocations())
        current.withLock { $0 = revoked }
    }

    /// Refreshes until graceful shutdown, which also cuts the wait short; a failed read keeps the
    /// last list and is logged.
    public func run() async {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.refresh()
                } catch {
                    self.logger.error("revocation refresh failed", metadata: ["gateway.error": "\(error)"])
                }
                try await Task.sleep(for: self.refreshInterval)
            }
        }
    }

    /// Whether a verified token is revoked, by its `jti` or by its subject's revocation covering its `iat`.
    func isRevoked(_ identity: VerifiedIdentity) -> Bool {
        current.withLock { $0 }.covers(identity)
    }
}

/// An immutable snapshot of the revocations.
struct RevokedTokens {
    private var tokenIDs: Set<String> = []
    /// Subject → tokens issued at or before this instant are revoked.
    private var subjects: [String: Date] = [:]

    init() {}

    init(_ revocations: [Revocation]) {
        for revocation in revocations {
            switch revocation.kind {
            case .tokenID(let id): tokenIDs.insert(id)
            case .subject(let subject): subjects[subject] = max(subjects[subject] ?? .distantPast, revocation.revokedAt)
            }
        }
    }

    /// A token without `iat` cannot prove it was issued after a subject revocation: it is covered.
    func covers(_ identity: VerifiedIdentity) -> Bool {
        if let id = identity.tokenID, tokenIDs.contains(id) { return true }
        guard let revokedAt = subjects[identity.subject] else { return false }
        guard let issuedAt = identity.issuedAt else { return true }
        return issuedAt <= revokedAt
    }
}
