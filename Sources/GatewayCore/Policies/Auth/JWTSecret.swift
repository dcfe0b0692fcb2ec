import Foundation

/// Reads an issuer's HMAC secret from its `secret_file` or `JWT_SECRET_KEY`.
public enum JWTSecret {
    /// Shorter secrets are refused: HS256 wants at least as many bytes as its output.
    public static let minimumBytes = 32
    public static let environmentVariable = "JWT_SECRET_KEY"

    /// The secret, or `nil` when neither source is configured. A configured but unusable source throws.
    public static func load(_ config: IssuerConfig, environment: [String: String]) throws(StartupError) -> [UInt8]? {
        let secret: [UInt8]
        let key = "\(config.configPath).secret_file"
        if let path = config.secretFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartupError(key, "cannot read \(path)")
            }
            var bytes = Array(data)
            while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
            secret = bytes
        } else if config.usesEnvironmentSecret, let value = environment[environmentVariable] {
            secret = Array(value.utf8)
        } else {
            return nil
        }
        guard secret.count >= minimumBytes else {
            throw StartupError(
                config.secretFile == nil ? environmentVariable : key,
                "the JWT secret is \(secret.count) bytes; at least \(minimumBytes) are required")
        }
        return secret
    }
}
