/// The userservice's one way in and out of its storage, whichever engine holds it.
///
/// ``AppDatabase`` (SQLite) and ``PostgresUserStore`` (PostgreSQL) implement it with the same schema and the same
/// answers, so the routes never know which one they talk to.
protocol UserStore: Sendable {
    /// Inserts a user, throwing ``UniqueFieldConflict`` when the username or email is already taken.
    ///
    /// The unique indexes decide, so two concurrent registrations of one name cannot both succeed.
    func insertUser(_ newUser: NewUser) async throws -> User
    /// The user with this id, if any.
    func user(id: Int64) async throws -> User?
    /// The user with this username, if any.
    func user(username: String) async throws -> User?
    /// Every user, oldest first.
    func allUsers() async throws -> [User]
    /// Gives the named user the admin role; returns false when there is no such user.
    func grantAdmin(username: String) async throws -> Bool

    /// The owner's resources, newest first.
    func resources(ownerID: Int64) async throws -> [Resource]
    /// The resource with this id if it belongs to this owner; nil otherwise, whether it exists or not.
    func resource(id: Int64, ownerID: Int64) async throws -> Resource?
    /// Inserts a new resource for the owner.
    func insertResource(_ content: ResourceContent, ownerID: Int64) async throws -> Resource
    /// Replaces the name and content of the owner's resource; nil when the owner has no such resource.
    func updateResource(id: Int64, ownerID: Int64, with content: ResourceContent) async throws -> Resource?
    /// Deletes the owner's resource; returns false when the owner has no such resource.
    func deleteResource(id: Int64, ownerID: Int64) async throws -> Bool
}

/// The name and content a client gives a resource when creating or replacing it.
struct ResourceContent: Sendable {
    var name: String
    var content: String
}

/// A registration collided with an existing user's unique value.
struct UniqueFieldConflict: Error, Equatable {
    /// The request field whose value is already taken: "username" or "email".
    let field: String
}
