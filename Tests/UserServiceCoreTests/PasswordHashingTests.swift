import Testing

@testable import UserServiceCore

@Suite("Password hashing")
struct PasswordHashingTests {
    @Test("hashes with bcrypt cost 12 by default")
    func defaultCost() async throws {
        let cost = UserServiceConfiguration(jwtSecret: TestService.secret).bcryptCost
        let hash = try await PasswordHasher.hash("a password to hash", cost: UInt8(cost))

        #expect(hash.hasPrefix("$2b$12$"))
    }

    @Test("verifies the right password and refuses a wrong one")
    func verifies() async throws {
        let hasher = try await PasswordHasher(cost: 4)
        let hash = try await hasher.hash(TestService.strongPassword)

        #expect(try await hasher.verify(TestService.strongPassword, against: hash))
        #expect(try await !hasher.verify("another password", against: hash))
    }

    @Test("refuses any password when there is no stored hash")
    func noHash() async throws {
        let hasher = try await PasswordHasher(cost: 4)

        #expect(try await !hasher.verify(TestService.strongPassword, against: nil))
    }
}
