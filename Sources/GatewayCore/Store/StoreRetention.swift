import Foundation
import Logging
import ServiceLifecycle

/// Prunes the store in the background: audit events older than `audit_retention`, and
/// revocations whose tokens have all expired. Runs at start, then every ``interval``, until
/// graceful shutdown.
public struct StoreRetention: Service {
    private let store: any GatewayStore
    private let auditRetention: Duration
    /// How often to prune. Default one hour.
    public let interval: Duration
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// - Parameter now: the clock; tests inject their own.
    public init(
        store: any GatewayStore,
        auditRetention: Duration,
        interval: Duration = .seconds(3600),
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.auditRetention = auditRetention
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            repeat {
                await self.prune()
            } while (try? await Task.sleep(for: self.interval)) != nil
        }
    }

    /// Prunes once; failures are logged and retried at the next interval.
    public func prune() async {
        let now = now()
        let cutoff = now.adding(.zero - auditRetention)
        do {
            let events = try await store.pruneAudit(olderThan: cutoff)
            let revocations = try await store.pruneRevocations(expiredBefore: now)
            if events > 0 || revocations > 0 {
                logger.info(
                    "store pruned",
                    metadata: ["gateway.audit_pruned": "\(events)", "gateway.revocations_pruned": "\(revocations)"])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.error("store pruning failed", metadata: ["gateway.error": "\(error)"])
        }
    }
}
