import Foundation

/// Where a PostgreSQL database is and how to reach it safely, parsed from a `postgres://` URL.
///
/// The URL never carries the password (it would end up in config files, `ps` and logs): the
/// password comes from a file or the environment, see ``PostgresPassword``. Query parameters are
/// limited to `sslmode` and `sslrootcert`, named as libpq and `psql` name them.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected, as libpq's `sslmode`.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS: only for a server on the same host.
        case disable
        /// TLS, but any certificate is accepted: protects against listening, not against a man in the middle.
        case require
        /// TLS, the certificate signed by `sslrootcert` (or a system root) and issued for the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// `verify-full` when the URL does not say.
    public var sslMode: SSLMode
    /// The CA file that signed the server's certificate; the system's roots when absent.
    public var sslRootCert: String?

    public static let defaultPort = 5432

    /// Parses `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…]`.
    public init(parsing text: String) throws(PostgresURLError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw PostgresURLError("not a postgres:// URL (postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full)")
        }
        if components.password != nil {
            throw PostgresURLError(
                "the URL carries a password; put it in a password file, a systemd credential or $PGPASSWORD instead")
        }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError("the URL names no user (postgres://USER@HOST/…)") }
        guard var host = components.host, !host.isEmpty else { throw PostgresURLError("the URL names no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresURLError("the URL names no database (postgres://USER@HOST/DATABASE)")
        }
        var sslMode = SSLMode.verifyFull
        var sslRootCert: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw PostgresURLError(
                        "unsupported sslmode \((item.value ?? "").debugDescription); allowed: "
                            + SSLMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                sslMode = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else { throw PostgresURLError("sslrootcert is empty") }
                sslRootCert = path
            default:
                throw PostgresURLError("unsupported URL parameter \(item.name.debugDescription); allowed: sslmode, sslrootcert")
            }
        }
        if sslRootCert != nil, sslMode != .verifyFull {
            throw PostgresURLError("sslrootcert is used only with sslmode=verify-full")
        }
        self.host = host
        self.port = components.port ?? Self.defaultPort
        self.user = user
        self.database = database
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
    }

    /// Whether the server is on this host, where `sslmode=disable` exposes nothing on a network.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The URL as it was meant (no password is ever in it): safe to log.
    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(user)@\(hostPart):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
        if let sslRootCert { text += "&sslrootcert=\(sslRootCert)" }
        return text
    }
}

/// Why a `postgres://` URL was refused.
public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
