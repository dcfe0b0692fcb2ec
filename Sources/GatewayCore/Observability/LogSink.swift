import Dispatch
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go: a file descriptor (stdout) written by a serial queue of its own, so that a
/// request that logs never waits on the write, in batches a few milliseconds apart. Lines wait in a bounded buffer; when the reader
/// (journald, a pipe) falls that far behind, further lines are dropped and counted, and the count
/// is logged once writing catches up, as a warning line in the format of the lines around it.
public final class LogSink: Sendable {
    private struct Buffer {
        var pending: [UInt8] = []
        var draining = false
        var dropped = 0
    }

    /// The process's standard output.
    public static let standardOutput = LogSink(descriptor: STDOUT_FILENO)

    private let descriptor: CInt
    private let limit: Int
    private let buffer = Mutex(Buffer())
    private let noticeFormat = Mutex(LogFormat.text)
    private let queue = DispatchQueue(label: "gateway.log")
    /// How long the first line of a batch waits for more before they are written together.
    private static let batchDelay = DispatchTimeInterval.milliseconds(5)

    /// `limit`: bytes waiting at most before lines are dropped. Default 4 MiB.
    public init(descriptor: CInt, limit: Int = 4 << 20) {
        self.descriptor = descriptor
        self.limit = limit
    }

    /// The format of the line that reports dropped lines: that of the handler writing here.
    public func useFormat(_ format: LogFormat) {
        noticeFormat.withLock { $0 = format }
    }

    /// Queues one line (which must end with a newline).
    public func write(_ line: String) {
        let startDrain = buffer.withLock { buffer -> Bool in
            guard buffer.pending.count + line.utf8.count <= limit else {
                buffer.dropped += 1
                return false
            }
            buffer.pending.append(contentsOf: line.utf8)
            guard !buffer.draining else { return false }
            buffer.draining = true
            return true
        }
        // Lines written within the next few milliseconds go out in the same write.
        if startDrain { queue.asyncAfter(deadline: .now() + Self.batchDelay) { self.drain() } }
    }

    /// Returns once every line queued so far is written.
    public func flush() {
        queue.sync { self.drain() }
    }

    private func drain() {
        while true {
            let (chunk, dropped) = buffer.withLock { buffer -> ([UInt8], Int) in
                defer {
                    buffer.pending = []
                    buffer.dropped = 0
                }
                if buffer.pending.isEmpty { buffer.draining = false }
                return (buffer.pending, buffer.dropped)
            }
            writeAll(chunk)
            if dropped > 0 { writeAll(Array(droppedNotice(dropped).utf8)) }
            guard !chunk.isEmpty else { return }
        }
    }

    private func droppedNotice(_ count: Int) -> String {
        LineLogHandler.line(
            format: noticeFormat.withLock { $0 }, time: Date(), level: .warning, label: "gateway",
            message: "log lines dropped: stdout was not read fast enough", metadata: ["gateway.dropped_lines": "\(count)"])
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {
                        // A non-blocking stdout whose reader is behind: wait until it takes more.
                        var descriptor = pollfd(fd: self.descriptor, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&descriptor, 1, 100)
                        continue
                    }
                    return  // stdout is gone: nothing better to do with a log line
                }
                offset += written
            }
        }
    }
}
