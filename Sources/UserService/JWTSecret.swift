import ArgumentParser
import Foundation

/// Where the HS256 secret comes from: a file (as systemd's LoadCredential provides) or an environment variable.
enum JWTSecret {
    static let environmentVariable = "JWT_SECRET_KEY"

    /// The secret bytes from `file` if given (without one trailing newline), else from the environment.
    static func load(file: String?) throws -> [UInt8] {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("Cannot read the JWT secret file at \(file).")
            }
            return Self.droppingTrailingNewline(Array(data))
        }
        guard let value = ProcessInfo.processInfo.environment[Self.environmentVariable], !value.isEmpty else {
            throw ValidationError("No JWT secret: pass --jwt-secret-file or set \(Self.environmentVariable).")
        }
        return Array(value.utf8)
    }

    private static func droppingTrailingNewline(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        return bytes
    }
}
