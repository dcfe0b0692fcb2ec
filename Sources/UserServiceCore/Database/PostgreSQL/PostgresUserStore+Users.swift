import Foundation
import PostgresNIO

extension PostgresUserStore {
    private static let userColumns = "id, username, email, password_hash, role, created_at"

    func insertUser(_ newUser: NewUser) async throws -> User {
        do {
            let rows = try await self.rows(
                """
                INSERT INTO users (username, email, password_hash, role, created_at)
                VALUES (\(newUser.username), \(newUser.email), \(newUser.passwordHash), \(newUser.role.rawValue), \
                \(newUser.createdAt))
                RETURNING \(unescaped: Self.userColumns)
                """
            )
            guard let user = try rows.map(User.init).first else { throw UnexpectedRow(description: "the INSERT returned no row") }
            return user
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == PostgresError.Code.uniqueViolation.raw {
            let usernameTaken = error.serverInfo?[.constraintName] == "users_username_key"
            throw UniqueFieldConflict(field: usernameTaken ? "username" : "email")
        }
    }

    func user(id: Int64) async throws -> User? {
        try await self.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)").map(User.init).first
    }

    func user(username: String) async throws -> User? {
        try await self.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE username = \(username)")
            .map(User.init).first
    }

    func allUsers() async throws -> [User] {
        try await self.rows("SELECT \(unescaped: Self.userColumns) FROM users ORDER BY id").map(User.init)
    }

    func grantAdmin(username: String) async throws -> Bool {
        let rows = try await self.rows(
            "UPDATE users SET role = \(Role.admin.rawValue) WHERE username = \(username) RETURNING id"
        )
        return !rows.isEmpty
    }
}

extension User {
    /// A row of `SELECT id, username, email, password_hash, role, created_at FROM users`.
    fileprivate init(_ row: PostgresRow) throws {
        let (id, username, email, passwordHash, role, createdAt) = try row.decode(
            (Int64, String, String, String, String, Date).self
        )
        guard let role = Role(rawValue: role) else { throw UnexpectedRow(description: "unknown role \(role)") }
        self.init(
            id: id,
            username: username,
            email: email,
            passwordHash: passwordHash,
            role: role,
            createdAt: createdAt
        )
    }
}
