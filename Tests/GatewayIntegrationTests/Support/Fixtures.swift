import Foundation

/// Paths to the checked-in test TLS material (see Fixtures/make-test-fixtures).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static var caCertificate: String { path("ca.crt") }
    static var serverCertificate: String { path("server-ec.crt") }
    static var serverKey: String { path("server-ec.key") }

    /// The checkout, for files of the repository such as `schemas/`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The JWT secret the tests share between gateway and userservice.
    static let jwtSecret = "integration-test-secret-0123456789abcdef"

    /// The folder holding the built products (`gateway`, `userservice`) next to the test bundle.
    static var binDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
    }

    /// `environment` for a child process, plus the coverage profile path of this test run when
    /// there is one (`swift test --enable-code-coverage`), so the real binaries' lines count too.
    static func childEnvironment(_ environment: [String: String]) -> [String: String] {
        guard let profile = ProcessInfo.processInfo.environment["LLVM_PROFILE_FILE"] else { return environment }
        return environment.merging(["LLVM_PROFILE_FILE": profile]) { own, _ in own }
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
