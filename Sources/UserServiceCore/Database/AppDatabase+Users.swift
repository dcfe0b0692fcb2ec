import GRDB

/// A registration collided with an existing user's unique value.
struct UniqueFieldConflict: Error, Equatable {
    /// The request field whose value is already taken: "username" or "email".
    let field: String
}

extension AppDatabase {
    /// Inserts a user, throwing ``UniqueFieldConflict`` when the username or email is already taken.
    ///
    /// The unique indexes decide, so two concurrent registrations of one name cannot both succeed.
    func insertUser(_ newUser: NewUser) async throws -> User {
        try await self.dbWriter.write { db in
            do {
                return try newUser.insertAndFetch(db, as: User.self)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                let usernameTaken = try User.filter { $0.username == newUser.username }.isEmpty(db) == false
                throw UniqueFieldConflict(field: usernameTaken ? "username" : "email")
            }
        }
    }

    /// The user with this id, if any.
    func user(id: Int64) async throws -> User? {
        try await self.dbWriter.read { db in try User.fetchOne(db, id: id) }
    }

    /// The user with this username, if any.
    func user(username: String) async throws -> User? {
        try await self.dbWriter.read { db in
            try User.filter { $0.username == username }.fetchOne(db)
        }
    }

    /// Every user, oldest first.
    func allUsers() async throws -> [User] {
        try await self.dbWriter.read { db in
            try User.order { $0.id }.fetchAll(db)
        }
    }

    /// Gives the named user the admin role; returns false when there is no such user.
    func grantAdmin(username: String) async throws -> Bool {
        try await self.dbWriter.write { db in
            try User.filter { $0.username == username }
                .updateAll(db) { $0.role.set(to: Role.admin) } > 0
        }
    }
}
