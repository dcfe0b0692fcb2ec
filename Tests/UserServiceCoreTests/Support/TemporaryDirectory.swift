import Foundation

/// Runs `body` with the path of a database file in a fresh directory, removed afterwards.
func withTemporaryDatabasePath<Value>(_ body: (String) async throws -> Value) async throws -> Value {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("userservice-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory.appendingPathComponent("users.sqlite").path)
}
