import Dispatch
import Foundation
import GatewayCore
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the config file and the certificates on SIGHUP without closing a listener or a
/// connection: the new config is first checked in a child process (``ReloadCheck``), so that a file
/// that crashes or hangs the parser cannot take the daemon down; then the text the child passed is
/// parsed, checked and built into a runtime off the event loops, every connection serves its next
/// request under it, and new connections get the renewed certificate.
///
/// A config that fails the child's check, does not load, or changes what only a restart can change (where the listeners,
/// the admin listener and the store are, who may use the admin listener, how the limiter counts,
/// the store's audit settings, the log's format; a JWKS URL not fetched yet, or how one is
/// fetched), is refused: logged, audited
/// `config_rejected`, and the running config keeps serving. Tells systemd `RELOADING=1` and then
/// `READY=1` around each reload.
final class ConfigReloader: Service, Sendable {
    private let path: String
    private let server: GatewayServer
    private let recorder: AuditRecorder
    private let notifier: SystemdNotifier
    private let metrics: GatewayMetrics
    /// The log level a reload sets from `[log] level`; `nil` when `--log-level` holds it.
    private let logLevel: LogLevelSetting?
    private let logger: Logger
    private let build: @Sendable (GatewayConfig) throws -> GatewayRuntime
    private let check: ReloadCheck

    init(
        path: String, server: GatewayServer, recorder: AuditRecorder, notifier: SystemdNotifier, metrics: GatewayMetrics,
        logLevel: LogLevelSetting?, logger: Logger, check: ReloadCheck = ReloadCheck(),
        build: @escaping @Sendable (GatewayConfig) throws -> GatewayRuntime
    ) {
        self.check = check
        self.metrics = metrics
        self.logLevel = logLevel
        self.path = path
        self.server = server
        self.recorder = recorder
        self.notifier = notifier
        self.logger = logger
        self.build = build
    }

    func run() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups { await self.reload() }
        }
    }

    /// One reload; returns whether the new config now serves.
    @discardableResult
    func reload() async -> Bool {
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())")
        defer { notifier.notify("READY=1\nSTATUS=serving") }
        let running = server.runtime.config
        let runtime: GatewayRuntime
        do {
            let config = try await checkedConfig()
            if let reason = Self.restartOnly(from: running, to: config) { throw ReloadRefusal(reason) }
            runtime = try build(config)
        } catch {
            let reason = (error as? ConfigErrors)?.problems.first?.description ?? "\(error)"
            logger.error("config reload refused; the running config keeps serving", metadata: ["gateway.reason": "\(reason)"])
            recorder.record(AuditEvent(time: Date(), type: .configRejected, reason: reason))
            metrics.reloaded(applied: false)
            server.reloads.record(applied: false, detail: reason)
            return false
        }
        await server.replaceRuntime(runtime)
        logLevel?.level = runtime.config.log.level
        for warning in runtime.config.warnings { logger.warning("config: \(warning)") }
        CertificateExpiryWatch.check(runtime.certificates, logger: logger)
        logger.notice("config reloaded", metadata: ["gateway.config": "\(path)"])
        recorder.record(AuditEvent(time: Date(), type: .configReloaded, reason: "\(path) reloaded"))
        metrics.reloaded(applied: true)
        server.reloads.record(applied: true, detail: "\(path) reloaded")
        return true
    }

    /// The config at `path`, parsed from the very text the child process passed.
    private func checkedConfig() async throws -> GatewayConfig {
        switch await check.run(path: path) {
        case .refused(let reason):
            throw ReloadRefusal(reason)
        case .passed(let digest):
            // The child read the file to its end; a FIFO would make this read wait for another writer.
            let text = try ConfigLoader.text(path: path, regularOnly: true)
            guard ConfigLoader.digest(of: text) == digest else {
                throw ReloadRefusal("\(path) changed while it was being checked; reload again")
            }
            return try ConfigLoader.parse(text: text, sourcePath: path)
        }
    }

    /// What a reload cannot change, if `next` changes it.
    static func restartOnly(from running: GatewayConfig, to next: GatewayConfig) -> String? {
        if next.server.listen != running.server.listen || next.server.redirectHTTPListen != running.server.redirectHTTPListen {
            return "server.listen and server.redirect_http_listen change only on restart"
        }
        if next.store.location != running.store.location || next.store.auditRetention != running.store.auditRetention
            || next.store.onAuditOverflow != running.store.onAuditOverflow || next.store.auditQueueSize != running.store.auditQueueSize
            || next.store.syncInterval != running.store.syncInterval || next.server.nodeName != running.server.nodeName
        {
            return "[store] settings and server.node_name change only on restart"
        }
        if next.admin.listen != running.admin.listen || next.admin.allowedClients != running.admin.allowedClients {
            return "admin.listen and admin.allowed_clients change only on restart"
        }
        if next.rateLimit.maxKeys != running.rateLimit.maxKeys || next.rateLimit.ipv6Prefix != running.rateLimit.ipv6Prefix {
            return "rate_limit.max_keys and rate_limit.ipv6_prefix change only on restart"
        }
        if next.log.format != running.log.format { return "log.format changes only on restart" }
        let fetched = Dictionary(running.jwt.issuers.compactMap { issuer in issuer.jwksURL.map { ($0, issuer) } }) { first, _ in first }
        for issuer in next.jwt.issuers {
            guard let url = issuer.jwksURL else { continue }
            guard let running = fetched[url] else { return "jwks_url \(url) is new: restart to fetch it" }
            if issuer.jwksRefresh != running.jwksRefresh || issuer.jwksMaxStale != running.jwksMaxStale
                || issuer.jwksCAFile != running.jwksCAFile
            {
                return "jwks_refresh, jwks_max_stale and jwks_ca_file of \(url) change only on restart"
            }
        }
        return nil
    }

    /// `CLOCK_MONOTONIC` in microseconds, which `MONOTONIC_USEC` wants (Dispatch's uptime on Linux).
    private static func monotonicMicroseconds() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds / 1_000
    }

    private struct ReloadRefusal: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
