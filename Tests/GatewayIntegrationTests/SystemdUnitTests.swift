import Foundation
import Testing

/// The units in `systemd/`: `systemd-analyze verify` accepts them (with the built binaries in
/// place of /usr/local/bin), and `systemd-analyze security` rates each exposure at 2.0 or lower.
/// Needs `systemd-analyze` (`scripts/test` installs the systemd package).
@Suite("systemd units")
struct SystemdUnitTests {
    static let analyze = "/usr/bin/systemd-analyze"
    static let units = ["gateway", "userservice"]

    static func unitPath(_ name: String) -> String { "\(Fixtures.repositoryRoot)/systemd/\(name).service" }

    @Test("systemd-analyze verify accepts every unit, the socket unit too")
    func verify() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.analyze), "systemd-analyze is missing; scripts/test installs it")
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for unit in Self.units {
            let text = try String(contentsOfFile: Self.unitPath(unit), encoding: .utf8)
                .replacingOccurrences(of: "/usr/local/bin/", with: Fixtures.binDirectory.path + "/")
            let path = directory.appendingPathComponent("\(unit).service").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let socket = directory.appendingPathComponent("gateway.socket").path
        try FileManager.default.copyItem(atPath: "\(Fixtures.repositoryRoot)/systemd/gateway.socket", toPath: socket)
        let result = try await runProcess(Self.analyze, ["verify"] + paths + [socket])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.isEmpty, "\(result.output)")
    }

    /// The exposure each unit is rated today: a change may lower it, never raise it.
    static let exposureCeilings = ["gateway": 1.6, "userservice": 1.1]

    @Test("systemd-analyze security rates no unit's exposure above what it is today (gateway 1.6, userservice 1.1)", arguments: units)
    func exposure(_ unit: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.analyze), "systemd-analyze is missing; scripts/test installs it")
        let result = try await runProcess(Self.analyze, ["security", "--offline=true", "--no-pager", Self.unitPath(unit)])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(result.output)")
        let score = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(score.map { $0 <= Self.exposureCeilings[unit]! } == true, "\(line)")
    }

    @Test("every unit restarts on failure within a start limit and carries deliberate resource limits, each explained", arguments: units)
    func resourceLimits(_ unit: String) throws {
        let lines = try String(contentsOfFile: Self.unitPath(unit), encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        for key in [
            "Restart=on-failure", "StartLimitIntervalSec=", "StartLimitBurst=", "LimitNOFILE=", "MemoryHigh=", "MemoryMax=", "TasksMax=",
        ] {
            let index = try #require(lines.firstIndex { $0.hasPrefix(key) }, "\(unit): no \(key)")
            // The comment above a key (or above the keys grouped under it) says why.
            let above = lines[..<index].last { !$0.contains("=") || $0.hasPrefix("#") }
            #expect(above?.hasPrefix("#") == true, "\(unit): \(key) has no comment above it")
        }
    }
}
