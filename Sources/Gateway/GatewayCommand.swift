import ArgumentParser
import Foundation
import GatewayCore
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// `gateway`: the TLS front door and its operator commands.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A TLS-terminating API gateway: JWT authentication and request hardening in front of plain HTTP services.",
        version: GatewayVersion.string,
        subcommands: [Serve.self, CheckConfig.self, Audit.self, Token.self, Limits.self, Store.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand that reads the config shares.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("Path to the gateway's TOML config file.", valueName: "path"))
    var config: String = "/etc/gateway/gateway.conf"
}

extension GatewayCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the gateway until SIGTERM or SIGINT; SIGHUP reloads the config and certificates.",
            discussion:
                "Secrets are read from each issuer's secret_file or the JWT_SECRET_KEY environment variable, never from the config file. Under systemd it reports readiness, reloads and shutdown (sd_notify), pings the watchdog when WATCHDOG_USEC is set, and takes its listeners from LISTEN_FDS under socket activation."
        )

        @OptionGroup var options: ConfigOption

        @Option(help: ArgumentHelp("Lowest log level written to stdout, over [log] level.", valueName: "level"))
        var logLevel: Logger.Level?

        func run() async throws {
            let config = try ConfigCheck.loadConfig(path: options.config)
            let level = LogLevelSetting(logLevel ?? config.log.level)
            let format = config.log.format
            LoggingSystem.bootstrap { LineLogHandler(label: $0, format: format, level: level) }
            LogSink.standardOutput.useFormat(format)
            defer { LogSink.standardOutput.flush() }
            let logger = Logger(label: "gateway")
            for warning in config.warnings { logger.warning("config: \(warning)") }
            let store = try await StoreAccess.open(config, logger: logger)
            let revocations = RevocationList(store: store, refreshInterval: config.store.syncInterval, logger: logger)
            try await revocations.refresh()
            let remoteKeys = try RemoteKeySet.keySets(for: config.jwt, store: store, logger: logger)
            for keySet in remoteKeys { await keySet.load() }
            let rateLimiter = RateLimiter(maxKeys: config.rateLimit.maxKeys)
            let runtime = try ConfigCheck.makeRuntime(
                config, revocations: revocations, remoteKeys: remoteKeys,
                usernameFingerprint: UsernameFingerprint(key: try await store.installKey()), rateLimiter: rateLimiter)
            let rateLimits = RateLimitPersistence(
                limiter: rateLimiter, loginGuard: runtime.loginGuard, store: store, interval: config.store.syncInterval,
                logger: logger)
            try await rateLimits.restore()
            let recorder = AuditRecorder(store: store, configuration: .init(config.store), logger: logger)
            let retention = StoreRetention(store: store, auditRetention: config.store.auditRetention, logger: logger)
            let notifier = SystemdNotifier()
            let metrics = GatewayMetrics()
            let health = UpstreamHealth(upstreams: config.upstreams, logger: logger)
            let server = GatewayServer(
                runtime: runtime, recorder: recorder, health: health, metrics: metrics, logger: logger, notifier: notifier,
                inheritedListeners: SystemdSockets.listeners(), descriptorLimit: DescriptorBudget.raiseDescriptorLimit())
            let fingerprint = runtime.usernameFingerprint
            let loginGuard = runtime.loginGuard
            // --log-level holds over every reload; without it, a reload applies [log] level.
            let reloader = ConfigReloader(
                path: options.config, server: server, recorder: recorder, notifier: notifier, metrics: metrics,
                logLevel: logLevel == nil ? level : nil, logger: logger
            ) {
                try GatewayRuntime(
                    config: $0, revocations: revocations, remoteKeys: remoteKeys, usernameFingerprint: fingerprint,
                    rateLimiter: rateLimiter, loginGuard: loginGuard)
            }
            // Shut down in reverse: the server first, then the last counters are saved, and the
            // recorder goes last so that it drains every event.
            var services: [any Service] = [recorder, retention, revocations, health]
            services += remoteKeys as [any Service]
            services += [rateLimits, server, reloader] as [any Service]
            services.append(CertificateExpiryWatch(certificates: { server.runtime.certificates }, logger: logger))
            services.append(MemoryTrimmer(closedConnections: { server.closedConnections }, logger: logger))
            services.append(
                SystemdWatchdog(notifier: notifier, group: MultiThreadedEventLoopGroup.singleton, recorder: recorder, logger: logger))
            let admin = AdminServer.make(
                config: config, rateLimiter: rateLimiter, store: store,
                readiness: Readiness(store: store, health: health, remoteKeys: remoteKeys), metrics: metrics,
                readings: { server.metricsReadings }, server: server, logger: logger)
            if let admin { services.append(admin) }
            let group = ServiceGroup(
                configuration: .init(
                    services: services,
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        }
    }

    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Validate the config file, certificates and secrets, then print a summary.",
            discussion:
                "Exits 0 when the gateway would start with this config, printing any warnings (weaker settings it allows) to stderr; otherwise lists every problem as FILE:LINE: key.path: what is wrong (allowed: ...)."
        )

        @OptionGroup var options: ConfigOption

        /// Set by the daemon's ``ReloadCheck``: print the checked text's digest instead of the summary.
        @Flag(name: .customLong(String(ReloadCheck.flag.dropFirst(2))), help: .hidden)
        var reloadCheck = false

        func run() async throws {
            if reloadCheck { ReloadCheck.yieldToOOMKiller() }
            let text = try ConfigCheck.loadText(path: options.config)
            #if DEBUG
                // Tests stand in for an input that trips one of toml++'s assertions.
                if let marker = ProcessInfo.processInfo.environment["GATEWAY_TEST_ABORTING_CONFIG_MARKER"], text.contains(marker) {
                    abort()
                }
            #endif
            let runtime = try ConfigCheck.makeRuntime(try ConfigCheck.parse(text, path: options.config))
            for warning in runtime.config.warnings { Console.printError("warning: \(warning)") }
            if reloadCheck {
                print(ReloadCheck.digestPrefix + ConfigLoader.digest(of: text))
                return
            }
            print("\(options.config): OK" + (runtime.config.warnings.isEmpty ? "" : " (\(runtime.config.warnings.count) warnings)"))
            print(runtime.config.summary)
        }
    }
}

// swift-format-ignore: AvoidRetroactiveConformances
// ArgumentParser parses option values only through this protocol.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Loads and checks the config, printing every problem to stderr and failing on any.
enum ConfigCheck {
    static func loadConfig(path: String) throws -> GatewayConfig {
        try parse(try loadText(path: path), path: path)
    }

    static func loadText(path: String) throws -> String {
        do {
            return try ConfigLoader.text(path: path)
        } catch {
            for problem in error.problems { Console.printError(problem.description) }
            throw ExitCode.failure
        }
    }

    static func parse(_ text: String, path: String) throws -> GatewayConfig {
        do {
            return try ConfigLoader.parse(text: text, sourcePath: path)
        } catch {
            for problem in error.problems { Console.printError(problem.description) }
            throw ExitCode.failure
        }
    }

    static func makeRuntime(
        _ config: GatewayConfig, revocations: RevocationList? = nil, remoteKeys: [RemoteKeySet] = [],
        usernameFingerprint: UsernameFingerprint = .ephemeral(), rateLimiter: RateLimiter? = nil
    ) throws -> GatewayRuntime {
        do {
            return try GatewayRuntime(
                config: config, revocations: revocations, remoteKeys: remoteKeys, usernameFingerprint: usernameFingerprint,
                rateLimiter: rateLimiter)
        } catch {
            Console.printError("\(config.sourcePath): \(error)")
            throw ExitCode.failure
        }
    }
}
