import Foundation

/// The real `gateway` binary, started with a config file, its log captured in a file.
final class GatewayProcess {
    let process = Process()
    let logFile: URL
    private(set) var port = 0

    private init(configPath: String) {
        logFile = URL(fileURLWithPath: configPath + ".log")
    }

    /// Starts `gateway serve` and waits for its "gateway listening" line.
    /// `launcher` runs the binary, e.g. `setpriv` with another user's ids.
    static func start(
        configPath: String, environment: [String: String] = ["JWT_SECRET_KEY": Fixtures.jwtSecret], launcher: [String] = []
    ) async throws -> GatewayProcess {
        let gateway = GatewayProcess(configPath: configPath)
        try await gateway.launch(configPath: configPath, environment: environment, launcher: launcher)
        return gateway
    }

    private func launch(configPath: String, environment: [String: String], launcher: [String]) async throws {
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let binary = Fixtures.binDirectory.appendingPathComponent("gateway")
        process.executableURL = launcher.first.map(URL.init(fileURLWithPath:)) ?? binary
        process.arguments = launcher.dropFirst() + (launcher.isEmpty ? [] : [binary.path]) + ["serve", "--config", configPath]
        process.environment = Fixtures.childEnvironment(environment)
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let line = log.split(separator: "\n").first(where: { $0.contains("gateway listening") }),
                let range = line.range(of: #"listen(=|":")[^ "]*:[0-9]+"#, options: .regularExpression)
            {
                port = Int(line[range].split(separator: ":").last!)!
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = await terminate()
        throw GatewayProcessError(log: log)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The port of the admin listener, from its "admin listening" line (waited for up to 10 s).
    func adminPort() async throws -> Int {
        try await loggedPort(line: "admin listening", key: "listen")
    }

    /// The port of the redirect listener, from the "gateway listening" line.
    func redirectPort() async throws -> Int {
        try await loggedPort(line: "gateway listening", key: "redirect_listen")
    }

    /// The port in `key=HOST:PORT` of the first log line that contains `line` (waited for up to 10 s).
    private func loggedPort(line text: String, key: String) async throws -> Int {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let line = log.split(separator: "\n").first(where: { $0.contains(text) }),
                let range = line.range(of: #"[ .]"# + key + #"(=|":")[^ "]*:[0-9]+"#, options: .regularExpression)
            {
                return Int(line[range].split(separator: ":").last!)!
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw GatewayProcessError(log: log)
    }

    /// Resident set size in bytes, from /proc.
    var residentBytes: Int { Self.residentBytes(pid: process.processIdentifier) }

    static func residentBytes(pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    /// How the process ended.
    struct Exit: Sendable, Equatable {
        let reason: Process.TerminationReason
        let status: Int32

        static let success = Exit(reason: .exit, status: 0)
    }

    /// Sends SIGTERM and waits for the exit on a thread of its own (``onOwnThread(_:)``), so that
    /// the wait never holds one of the threads the async tests share.
    func terminate() async -> Exit {
        let process = self.process
        return await withCheckedContinuation { continuation in
            onOwnThread {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                continuation.resume(returning: Exit(reason: process.terminationReason, status: process.terminationStatus))
            }
        }
    }

    /// Sends SIGHUP: reload the config and certificates.
    func reload() {
        Foundation.kill(process.processIdentifier, SIGHUP)
    }

    /// Sends SIGKILL: no graceful shutdown at all. Waits like ``terminate()``.
    func kill() async -> Exit {
        let process = self.process
        return await withCheckedContinuation { continuation in
            onOwnThread {
                if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                continuation.resume(returning: Exit(reason: process.terminationReason, status: process.terminationStatus))
            }
        }
    }

    /// Stops a gateway a test left running, and waits for it: under `--enable-code-coverage` it
    /// writes its profile on exit, which must be complete before `swift test` merges the profiles.
    deinit {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

struct GatewayProcessError: Error, CustomStringConvertible {
    let log: String
    var description: String { "gateway did not start:\n\(log)" }
}

/// Runs the built `gateway` binary to completion and returns its exit code and output.
func runGateway(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    try await runProcess(Fixtures.binDirectory.appendingPathComponent("gateway").path, arguments, environment: environment)
}

/// Runs a program to completion on a thread of its own, so waiting for it never holds one of the
/// few threads that async tests (and their in-process servers' callers) share.
func runProcess(_ path: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (
    status: Int32, output: String
) {
    try await withCheckedThrowingContinuation { continuation in
        onOwnThread {
            continuation.resume(
                with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: path)
                    process.arguments = arguments
                    if let environment { process.environment = Fixtures.childEnvironment(environment) }
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = pipe
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                })
        }
    }
}

/// A gateway config file for the binary tests, with the test certificate (or the `[tls]` keys
/// `tls` gives), one upstream and a store in `directory` (or the `[store]` keys `store` gives).
/// `extra` is appended as is: more tables, such as `[admin]`.
func writeConfig(
    in directory: URL, upstreamPort: Int, upstream: String? = nil, extraServer: String = "", routes: String? = nil, extra: String = "",
    certificate: String = Fixtures.serverCertificate, privateKey: String = Fixtures.serverKey, tls: String? = nil,
    store: String = "path = \"gateway.sqlite\"", name: String = "gateway.conf"
) throws -> String {
    let path = directory.appendingPathComponent(name).path
    let text = """
        [server]
        listen = "127.0.0.1:0"
        \(extraServer)

        [tls]
        \(tls ?? "certificate = \"\(certificate)\"\nprivate_key = \"\(privateKey)\"")

        [jwt]
        algorithms = ["HS256"]
        issuer = "userservice"
        audience = "gateway"

        [[upstream]]
        name = "test"
        \(upstream ?? "url = \"http://127.0.0.1:\(upstreamPort)\"")

        \(routes ?? "[[route]]\npath = \"/\"\nupstream = \"test\"\nauth = \"none\"")

        [store]
        \(store)

        \(extra)
        """
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Runs `work`, which blocks (waiting for a process, reading a pipe, a socket), on a thread of its
/// own. Dispatch's global queue runs only a few such items at once on a small machine: blocking
/// work there can wait behind other blocked work, and a test then hangs.
func onOwnThread(_ work: @escaping @Sendable () -> Void) {
    let thread = Thread(block: work)
    thread.stackSize = 1 << 20
    thread.start()
}
