import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The active health checks of every upstream target, and what `/readyz` says about upstreams.
///
/// Each target is probed every `health_check.interval` (a TCP connect, or `GET path` expecting a
/// 2xx or 3xx answer). `unhealthy_after` failures in a row take it out of rotation and
/// `healthy_after` passes bring it back; both are logged at warning and notice. A reload hands the
/// new upstreams over with ``update(_:)``: targets kept keep their state.
public final class UpstreamHealth: Service, Sendable {
    private struct Checked: Sendable {
        let config: UpstreamConfig
        let targets: [TargetHealth]
    }

    private let upstreams: Mutex<[Checked]>
    private let logger: Logger
    private let group: any EventLoopGroup

    public init(upstreams: [UpstreamConfig], group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.upstreams = Mutex([])
        self.logger = logger
        self.group = group
        update(upstreams)
    }

    /// Starts checking `configs` instead of the upstreams checked so far; a target still listed
    /// under the same upstream keeps its state.
    public func update(_ configs: [UpstreamConfig]) {
        upstreams.withLock { current in
            let known = current.flatMap(\.targets)
            current = configs.map { config in
                Checked(
                    config: config,
                    targets: config.targets.map { address in
                        known.first { $0.upstream == config.name && $0.address == address }
                            ?? TargetHealth(upstream: config.name, address: address)
                    })
            }
        }
    }

    /// Every target of every upstream.
    public var targets: [TargetHealth] { upstreams.withLock { $0.flatMap(\.targets) } }

    /// The targets of the upstream called `name`, in configured order.
    public func targets(of name: String) -> [TargetHealth] {
        upstreams.withLock { $0.first { $0.config.name == name }?.targets ?? [] }
    }

    /// One line per upstream that cannot take requests (none of its targets is up), or has not been probed yet.
    public func problems() -> [String] {
        upstreams.withLock { $0 }.compactMap { upstream in
            guard !upstream.targets.contains(where: { $0.current == .up }) else { return nil }
            let states = upstream.targets.map { target in
                switch target.current {
                case .unchecked: "\(target.address) not probed yet"
                case .up: "\(target.address) up"
                case .down: "\(target.address) down (\(target.failure ?? "probe failed"))"
                }
            }
            return "upstream \(upstream.config.name): no healthy target: " + states.joined(separator: "; ")
        }
    }

    public func run() async throws {
        let client = HTTPClient(
            eventLoopGroupProvider: .shared(group),
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled))
        await cancelWhenGracefulShutdown {
            await self.probeForever(client: client)
        }
        try await client.shutdown()
    }

    private func probeForever(client: HTTPClient) async {
        var streaks: [ObjectIdentifier: Streak] = [:]
        var due: [ObjectIdentifier: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let checked = upstreams.withLock { $0 }
            let probes = checked.flatMap { upstream in
                upstream.targets.filter { due[ObjectIdentifier($0)].map { $0 <= now } ?? true }.map { (upstream.config, $0) }
            }
            let results = await withTaskGroup(of: (TargetHealth, String?).self) { group in
                for (config, target) in probes {
                    group.addTask { (target, await self.probe(target.address, config.healthCheck, client: client)) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (target, failure) in results {
                guard !Task.isCancelled else { return }
                let id = ObjectIdentifier(target)
                let config = checked.first { $0.targets.contains { $0 === target } }!.config.healthCheck
                streaks[id, default: Streak()].record(passed: failure == nil)
                target.probed(at: Date())
                apply(streaks[id]!, failure: failure, to: target, config: config)
                due[id] = now + config.interval
            }
            let live = Set(checked.flatMap(\.targets).map(ObjectIdentifier.init))
            streaks = streaks.filter { live.contains($0.key) }
            due = due.filter { live.contains($0.key) }
            let next = due.values.min() ?? now + .seconds(1)
            try? await Task.sleep(until: min(next, .now + .seconds(1)), clock: .continuous)
        }
    }

    /// Consecutive passes or failures of one target.
    private struct Streak {
        var passes = 0
        var failures = 0

        mutating func record(passed: Bool) {
            if passed {
                passes += 1
                failures = 0
            } else {
                failures += 1
                passes = 0
            }
        }
    }

    private func apply(_ streak: Streak, failure: String?, to target: TargetHealth, config: HealthCheckConfig) {
        let metadata: Logger.Metadata = ["gateway.upstream": "\(target.upstream)", "gateway.target": "\(target.address)"]
        switch target.current {
        case .unchecked:
            target.mark(failure == nil ? .up : .down, failure: failure)
            if let failure { logger.warning("upstream target down", metadata: metadata.merging(["gateway.reason": "\(failure)"]) { $1 }) }
        case .up where streak.failures >= config.unhealthyAfter:
            target.mark(.down, failure: failure)
            logger.warning("upstream target down", metadata: metadata.merging(["gateway.reason": "\(failure ?? "")"]) { $1 })
        case .down where streak.passes >= config.healthyAfter:
            target.mark(.up)
            logger.notice("upstream target up", metadata: metadata)
        case .down:
            if let failure { target.mark(.down, failure: failure) }
        case .up:
            break
        }
    }

    /// `nil` when the target passed, else why it failed.
    private func probe(_ address: HostPort, _ check: HealthCheckConfig, client: HTTPClient) async -> String? {
        guard let path = check.path else { return await connectProbe(address, timeout: check.timeout) }
        do {
            var request = HTTPClientRequest(url: "http://\(address)\(path)")
            request.headers.add(name: "User-Agent", value: "gateway-health-check")
            // Only the status counts: the body is never read, so a target that stalls after its head
            // cannot hold the probe (the deadline covers the head).
            let response = try await client.execute(request, timeout: TimeAmount(check.timeout))
            return (200..<400).contains(response.status.code) ? nil : "GET \(path) answered \(response.status.code)"
        } catch {
            return "GET \(path) failed: \(error)"
        }
    }

    private func connectProbe(_ address: HostPort, timeout: Duration) async -> String? {
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: address.host, port: address.port).get()
            try? await channel.close()
            return nil
        } catch {
            return "connect failed: \(error)"
        }
    }
}
