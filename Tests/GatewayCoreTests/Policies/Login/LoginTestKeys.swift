@testable import GatewayCore

extension LoginKeys {
    /// The keys under one fixed test install key.
    init(clientAddress: String, username: String?) {
        self.init(clientAddress: clientAddress, username: username, fingerprint: .test)
    }
}

extension UsernameFingerprint {
    static let test = UsernameFingerprint(key: Array(repeating: 0x42, count: 32))
}
