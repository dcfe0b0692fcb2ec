import GRDB

extension AppDatabase {
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

    func user(id: Int64) async throws -> User? {
        try await self.dbWriter.read { db in try User.fetchOne(db, id: id) }
    }

    func user(username: String) async throws -> User? {
        try await self.dbWriter.read { db in
            try User.filter { $0.username == username }.fetchOne(db)
        }
    }

    func allUsers() async throws -> [User] {
        try await self.dbWriter.read { db in
            try User.order { $0.id }.fetchAll(db)
        }
    }

    func grantAdmin(username: String) async throws -> Bool {
        try await self.dbWriter.write { db in
            try User.filter { $0.username == username }
                .updateAll(db) { $0.role.set(to: Role.admin) } > 0
        }
    }
}
