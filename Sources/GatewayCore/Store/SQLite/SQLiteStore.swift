import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The ``GatewayStore`` in one SQLite file, through GRDB.
///
/// The file is opened as a WAL-mode `DatabasePool`, so that the operator CLI can read and write
/// while a gateway keeps appending. Every access is an async GRDB call that runs on GRDB's own
/// queues, never on an event loop.
public struct SQLiteStore: GatewayStore {
    /// Access to the database, for the extensions of this type only.
    let writer: any DatabaseWriter
    public let location: String

    /// Opens the database file at `path` and migrates it to the current schema, creating the
    /// file (mode 0600) and its missing parent directories (mode 0700) first.
    ///
    /// Blocks while it opens and migrates: call it at start-up, never on an event loop.
    public init(path: String) throws {
        try Self.createFile(at: path)
        try self.init(writer: DatabasePool(path: path, configuration: Self.makeConfiguration()), path: path)
    }

    /// A private database in memory, gone when the store is; for tests.
    public static func inMemory() throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(configuration: makeConfiguration()), path: ":memory:")
    }

    private init(writer: any DatabaseWriter, path: String) throws {
        if try writer.read(Self.migrator.hasBeenSuperseded) {
            throw StoreError.newerSchema(path)
        }
        try Self.migrator.migrate(writer)
        self.writer = writer
        self.location = path
    }

    /// GRDB closes the file when the last copy of the store goes.
    public func close() async {}

    /// Each connection's page cache, in KiB.
    static let pageCacheKiB = 512

    private static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "gateway.store"
        // The CLI writes (token revoke) while the daemon runs: wait for the lock rather than fail.
        configuration.busyMode = .timeout(5)
        // A bound on each connection's page cache (SQLite's default is 2 MiB): appends and the
        // limiter's writes touch few pages, and the daemon's memory should not grow with the table.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -\(Self.pageCacheKiB)") }
        return configuration
    }

    /// SQLite would create the file with the umask's mode; the WAL and shared-memory files it
    /// makes later copy the database file's mode, so creating it 0600 keeps all three private.
    static func createFile(at path: String) throws(StoreError) {
        let directory = ConfigPath.directory(of: path)
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .cannotCreateDirectory(directory, reason: (error as NSError).localizedDescription)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .cannotCreateFile(path, reason: String(cString: strerror(errno)))
        }
        try? FileHandle(fileDescriptor: descriptor).close()
    }
}
