import Foundation
import Hummingbird
import Logging
import UserServiceCore

/// The real userservice, in process, on an ephemeral loopback port with a temporary SQLite file.
enum UserServiceHarness {
    static func with<T>(_ body: (_ port: Int) async throws -> T) async throws -> T {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = UserServiceConfiguration(
            port: 0, database: .sqlite(path: directory.appendingPathComponent("users.sqlite").path),
            jwtSecret: Array(Fixtures.jwtSecret.utf8), issuer: "userservice", audience: "gateway", bcryptCost: 4)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await makeUserServiceApplication(
            configuration: configuration, logger: Logger(label: "userservice-test")
        ) { port in continuation.yield(port) }
        let running = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(port)
            running.cancel()
            _ = await running.result
            return result
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
    }
}
