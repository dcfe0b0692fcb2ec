import GRDB

extension AppDatabase {
    /// The schema, one registered migration per change; never edit a migration that has shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("createUser") { db in
            try db.create(table: User.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("username", .text).notNull().unique()
                t.column("email", .text).notNull().unique().collate(.nocase)
                t.column("passwordHash", .text).notNull()
                t.column("role", .text).notNull()
                    .defaults(to: Role.user.rawValue)
                    .check { Role.allCases.map(\.rawValue).contains($0) }
                t.column("createdAt", .datetime).notNull()
            }
        }

        migrator.registerMigration("createResource") { db in
            try db.create(table: Resource.databaseTableName) { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("owner", inTable: User.databaseTableName, onDelete: .cascade).notNull()
                t.column("name", .text).notNull()
                t.column("content", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
        }

        return migrator
    }
}
