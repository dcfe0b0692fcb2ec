import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Pings systemd's watchdog (`WATCHDOG=1`) at half of `$WATCHDOG_USEC`, but only while the gateway
/// works: every event loop runs a task within that half interval, and the audit writer has
/// finished a round recently. When either stalls the pings stop, and systemd restarts the service
/// (`WatchdogSec=` in the unit). Without `$WATCHDOG_USEC`, or when `$WATCHDOG_PID` names another
/// process, it does nothing.
public final class SystemdWatchdog: Service, Sendable {
    /// Half the watchdog timeout; `nil` when no watchdog is asked for.
    let interval: Duration?
    private let notifier: SystemdNotifier
    private let group: any EventLoopGroup
    private let recorder: AuditRecorder
    private let logger: Logger

    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, notifier: SystemdNotifier, group: any EventLoopGroup,
        recorder: AuditRecorder, logger: Logger
    ) {
        let forUs = environment["WATCHDOG_PID"].map { $0 == String(ProcessInfo.processInfo.processIdentifier) } ?? true
        let microseconds = environment["WATCHDOG_USEC"].flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil }
        interval = forUs ? microseconds.map { .microseconds($0 / 2) } : nil
        self.notifier = notifier
        self.group = group
        self.recorder = recorder
        self.logger = logger
    }

    public func run() async {
        guard let interval else {
            // A service that returns would end the whole group: idle until shutdown instead.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if await self.isHealthy(within: interval) {
                    self.notifier.notify("WATCHDOG=1")
                } else {
                    self.logger.error("watchdog ping withheld: an event loop or the audit writer is stuck")
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Every event loop answers within `interval`, and the audit writer made progress within it.
    func isHealthy(within interval: Duration) async -> Bool {
        guard recorder.isMakingProgress(within: interval * 2) else { return false }
        return await withTaskGroup(of: Bool.self) { tasks in
            for loop in group.makeIterator() {
                tasks.addTask { (try? await loop.submit {}.get()) != nil }
            }
            tasks.addTask {
                try? await Task.sleep(for: interval)
                return false
            }
            var answered = 0
            let loops = group.makeIterator().reduce(0) { count, _ in count + 1 }
            for await ok in tasks {
                guard ok else { break }
                answered += 1
                if answered == loops { break }
            }
            tasks.cancelAll()
            return answered == loops
        }
    }
}
