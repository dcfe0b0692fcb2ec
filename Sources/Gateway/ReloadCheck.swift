import Foundation
import GatewayCore

/// Checks a config file in a child process (`gateway check-config --reload-check`) before the
/// daemon parses it. The TOML parser (toml++) aborts the whole process on some malformed inputs,
/// and a file can hang a reader (a FIFO) or be endless (`/dev/zero`): such a file takes the child
/// down, never the daemon. The child is killed after ``timeout`` or beyond ``memoryLimit`` of
/// resident memory, and offers itself to the kernel's OOM killer first. It prints the SHA-256 of
/// the text it checked, so the daemon parses that text and no other.
struct ReloadCheck: Sendable {
    /// This binary, however it was started (and even if a package upgrade replaced the file).
    var executable = "/proc/self/exe"
    var timeout: Duration = .seconds(10)
    var memoryLimit = 512 * 1024 * 1024

    /// What the check said of the file.
    enum Outcome: Equatable {
        /// It passed; `digest` is the SHA-256 of the text the child read.
        case passed(digest: String)
        /// It did not; `reason` says why for the log and the audit trail.
        case refused(reason: String)
    }

    /// The flag `check-config` takes when it runs as this check.
    static let flag = "--reload-check"
    /// What the child prints before the digest.
    static let digestPrefix = "sha256:"

    func run(path: String) async -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["check-config", "--config", path, Self.flag]
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .refused(reason: "the config check could not start: \(error)")
        }
        // Read both pipes to their end on threads of their own, so a chatty child never blocks.
        async let printed = Self.readToEnd(output.fileHandleForReading)
        async let complaints = Self.readToEnd(errors.fileHandleForReading)
        let killedBecause = await watch(process)
        let (stdout, stderr) = await (printed, complaints)
        if let killedBecause { return .refused(reason: killedBecause) }
        if process.terminationReason == .uncaughtSignal {
            return .refused(reason: "the config check crashed (signal \(process.terminationStatus)) on \(path)")
        }
        guard process.terminationStatus == 0 else {
            let problems = stderr.split(separator: "\n").filter { !$0.hasPrefix("warning: ") }
            return .refused(reason: problems.first.map(String.init) ?? "the config check failed on \(path)")
        }
        let digest = stdout.split(separator: "\n").last { $0.hasPrefix(Self.digestPrefix) }?.dropFirst(Self.digestPrefix.count)
        guard let digest else { return .refused(reason: "the config check printed no digest of \(path)") }
        return .passed(digest: String(digest))
    }

    /// Waits for `process` to exit, killing it past the time or memory limit; returns why it was killed.
    private func watch(_ process: Process) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var reason: String?
        while process.isRunning {
            if reason == nil {
                if ContinuousClock.now >= deadline {
                    reason = "the config check took longer than \(timeout) and was killed"
                } else if let resident = Self.residentBytes(of: process.processIdentifier), resident > memoryLimit {
                    reason = "the config check used more than \(memoryLimit / (1024 * 1024)) MiB and was killed"
                }
                if reason != nil { kill(process.processIdentifier, SIGKILL) }
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return reason
    }

    /// The resident memory of process `pid`, from `/proc/PID/statm`.
    private static func residentBytes(of pid: Int32) -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Reads on a thread of its own: Dispatch's global queue runs few blocking items at once on a
    /// small machine, and the daemon's other work must not wait behind a child's pipe.
    private static func readToEnd(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// In the child: asks the kernel to kill this process first when memory runs out, so that a
    /// runaway check never costs the daemon beside it.
    static func yieldToOOMKiller() {
        try? "1000".write(toFile: "/proc/self/oom_score_adj", atomically: false, encoding: .utf8)
    }
}
