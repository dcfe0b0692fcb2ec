import HummingbirdBcrypt
import NIOPosix

/// Hashes and verifies passwords with bcrypt, always on NIO's blocking thread pool so neither an event loop
/// nor the Swift concurrency pool stalls for the hundreds of milliseconds a hash takes.
struct PasswordHasher: Sendable {
    private let cost: UInt8
    /// A hash of a random password at the same cost, so an unknown user costs a login as much as a known one.
    private let dummyHash: String

    /// Creates a hasher; computes its dummy hash, hence async.
    init(cost: Int) async throws {
        self.cost = UInt8(cost)
        self.dummyHash = try await Self.hash(String(UInt64.random(in: .min ... .max)), cost: self.cost)
    }

    /// A salted bcrypt hash of the password at this hasher's cost.
    func hash(_ password: String) async throws -> String {
        try await Self.hash(password, cost: self.cost)
    }

    /// Whether the password matches the hash. Without a hash (unknown user) the dummy hash is checked
    /// instead, and the answer is always false.
    func verify(_ password: String, against hash: String?) async throws -> Bool {
        let candidate = hash ?? self.dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: candidate) }
        return matches && hash != nil
    }

    /// A salted bcrypt hash of the password at `cost`, computed on the blocking thread pool.
    static func hash(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }
}
