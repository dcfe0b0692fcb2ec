import Foundation

/// What a login attempt counts against: its client address and, when the body names one, its
/// username.
struct LoginKeys: Equatable, Sendable {
    /// The resolved client address; an IPv6 address stands for its /64, which one host usually has whole.
    let client: String
    /// ``AuditEvent/fingerprint(ofToken:)`` of the normalised username. The name itself is never
    /// kept or audited: it may be a password typed into the wrong field.
    let username: String?

    init(clientAddress: String, username: String?) {
        self.client = Self.clientKey(clientAddress)
        self.username = username.flatMap { $0.isEmpty ? nil : AuditEvent.fingerprint(ofToken: Self.normalize($0)) }
    }

    /// One key for the spellings backends commonly treat as the same user: surrounding spaces,
    /// letter case, accents and full-width forms (`" Victím"`, `ｖｉｃｔｉｍ` → `victim`).
    static func normalize(_ username: String) -> String {
        username.trimmingCharacters(in: .whitespacesAndNewlines)
            .folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
    }

    /// The address itself, or for IPv6 (not IPv4-mapped) its /64 network.
    static func clientKey(_ address: String) -> String {
        guard address.contains(":"), !address.contains("."), let network = CIDR("\(address)/64") else { return address }
        return network.description
    }
}
