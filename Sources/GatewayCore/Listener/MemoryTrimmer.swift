import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Gives the memory that closed connections freed back to the system.
///
/// glibc keeps freed memory in its arenas for reuse (one arena per thread that allocates: the event
/// loops, the concurrency pool, GRDB's queues), so after a burst of connections the resident size
/// stays at the burst's peak although nothing is in use. Every `interval` in which connections were
/// closed, this calls `malloc_trim(0)`, which returns the free pages of every arena; it runs on the
/// concurrency pool, never on an event loop. Capping the arenas (`M_ARENA_MAX=2`) was measured too
/// and kept no less memory, so the arenas stay as glibc sizes them.
public struct MemoryTrimmer: Service {
    /// How often freed memory is given back, at most.
    public static let interval = Duration.seconds(10)

    private let closedConnections: @Sendable () -> Int
    private let logger: Logger

    /// `closedConnections` counts the client connections closed so far: while it stands still
    /// there is nothing new to give back.
    public init(closedConnections: @escaping @Sendable () -> Int, logger: Logger) {
        self.closedConnections = closedConnections
        self.logger = logger
    }

    /// Trims until graceful shutdown, which also cuts the wait short.
    public func run() async {
        try? await cancelWhenGracefulShutdown {
            var trimmedAt = closedConnections()
            while !Task.isCancelled {
                try await Task.sleep(for: Self.interval)
                let closed = closedConnections()
                guard closed != trimmedAt else { continue }
                trimmedAt = closed
                Self.trim()
                logger.debug("freed memory returned to the system", metadata: ["gateway.closed_connections": "\(closed)"])
            }
        }
    }

    /// glibc's `malloc_trim`, which its Swift module does not export (`malloc.h` is not in it).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
            return nil
        #endif
    }()

    static func trim() {
        _ = mallocTrim?(0)
    }
}
