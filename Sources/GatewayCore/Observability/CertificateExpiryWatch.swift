import Foundation
import Logging
import ServiceLifecycle

/// Warns in the log when a certificate in use expires within ``warningPeriod``: at start, once a
/// day, and after each reload (the reloader calls ``check(_:now:logger:)`` with the new ones).
/// The `GatewayCertificateExpiresSoon` alert reads the same dates from `/metrics`.
public struct CertificateExpiryWatch: Service {
    /// How long before its expiry a certificate is warned about.
    public static let warningPeriod: TimeInterval = 14 * 86_400
    /// How often a running gateway checks again.
    public static let interval = Duration.seconds(86_400)

    private let certificates: @Sendable () -> [CertificateInUse]
    private let logger: Logger

    /// `certificates` reads the ones in force (``GatewayRuntime/certificates`` of the running generation).
    public init(certificates: @escaping @Sendable () -> [CertificateInUse], logger: Logger) {
        self.certificates = certificates
        self.logger = logger
    }

    /// Checks now, then every ``interval`` until graceful shutdown.
    public func run() async {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                Self.check(certificates(), logger: logger)
                try await Task.sleep(for: Self.interval)
            }
        }
    }

    /// Logs a warning for each of `certificates` that expires within ``warningPeriod`` of `now`,
    /// an error for one that has expired; returns how many it logged.
    @discardableResult
    public static func check(_ certificates: [CertificateInUse], now: Date = Date(), logger: Logger) -> Int {
        var logged = 0
        for certificate in certificates where certificate.notValidAfter.timeIntervalSince(now) < warningPeriod {
            let left = certificate.notValidAfter.timeIntervalSince(now)
            let metadata: Logger.Metadata = [
                "gateway.certificate": "\(certificate.name)",
                "gateway.not_after": "\(certificate.notValidAfter.formatted(.iso8601))",
                "gateway.days_left": "\(Int((left / 86_400).rounded(.down)))",
            ]
            if left <= 0 {
                logger.error("TLS certificate has expired: clients refuse it; renew it and reload", metadata: metadata)
            } else {
                logger.warning("TLS certificate expires within 14 days: renew it and reload", metadata: metadata)
            }
            logged += 1
        }
        return logged
    }
}
