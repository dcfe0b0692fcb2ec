import Crypto
import Foundation

/// What a login attempt counts against: its client address and, when the body names one, its
/// username.
struct LoginKeys: Equatable, Sendable {
    /// The resolved client address; an IPv6 address stands for its /64, which one host usually has whole.
    let client: String
    /// The ``UsernameFingerprint`` of the normalised username. The name itself is never kept or
    /// audited: it may be a password typed into the wrong field.
    let username: String?

    init(clientAddress: String, username: String?, fingerprint: UsernameFingerprint) {
        self.client = Self.clientKey(clientAddress)
        self.username = username.flatMap { $0.isEmpty ? nil : fingerprint.of(Self.normalize($0)) }
    }

    /// One key for the spellings backends commonly treat as the same user: surrounding spaces,
    /// letter case, accents and full-width forms (`" Victím"`, `ｖｉｃｔｉｍ` → `victim`).
    static func normalize(_ username: String) -> String {
        username.trimmingCharacters(in: .whitespacesAndNewlines)
            .folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }

    /// The address itself, or for IPv6 its /64 network.
    static func clientKey(_ address: String) -> String {
        CIDR.clientKey(address, ipv6Prefix: 64)
    }
}

/// Names a username without revealing it: the first 16 hexadecimal digits of its HMAC-SHA256 under
/// the install key (``GatewayStore/installKey()``). Unlike a plain hash, a list of likely usernames
/// or passwords cannot be hashed elsewhere and matched against the audit trail.
public struct UsernameFingerprint: Sendable {
    private let key: SymmetricKey

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// A key of this process only: its fingerprints match no other run's (`check-config`, tests).
    public static func ephemeral() -> UsernameFingerprint {
        UsernameFingerprint(key: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    /// The fingerprint of `username` as given (``LoginKeys`` normalises it first).
    public func of(_ username: String) -> String {
        String(HMAC<SHA256>.authenticationCode(for: Array(username.utf8), using: key).hexString.prefix(16))
    }
}
