import Foundation

/// Where a PostgreSQL password comes from: never the URL or the config file itself.
public enum PostgresPassword {
    /// The password, from the first of: the file at `file`; the systemd credential `credential`
    /// (`$CREDENTIALS_DIRECTORY/NAME`, from `LoadCredential=`); `$PGPASSWORD`. `nil` when none is
    /// set (the server may trust the host or use a client certificate). A trailing newline is dropped.
    public static func load(file: String?, credential: String, environment: [String: String]) throws(PostgresURLError) -> String? {
        if let file { return try read(file) }
        if let directory = environment["CREDENTIALS_DIRECTORY"] {
            let path = directory + "/" + credential
            if FileManager.default.fileExists(atPath: path) { return try read(path) }
        }
        return environment["PGPASSWORD"]
    }

    private static func read(_ path: String) throws(PostgresURLError) -> String {
        guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
            throw PostgresURLError("cannot read the password file \(path)")
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
