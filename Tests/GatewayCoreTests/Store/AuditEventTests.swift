import Crypto
import GatewayCore
import Testing

@Suite("Audit event")
struct AuditEventTests {
    @Test("a token's fingerprint is the first 12 hex digits of its SHA-256")
    func fingerprint() {
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl"
        let digest = SHA256.hash(data: Array(token.utf8)).map { String($0, radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
        #expect(AuditEvent.fingerprint(ofToken: token) == String(digest.prefix(12)))
        #expect(AuditEvent.fingerprint(ofToken: token[...]) == AuditEvent.fingerprint(ofToken: token))
    }

    @Test("the event types are the ones the audit trail documents")
    func types() {
        #expect(
            AuditEventType.allCases.map(\.rawValue) == [
                "auth_missing", "auth_invalid", "auth_expired", "auth_revoked", "scope_denied", "rate_limited",
                "cors_rejected", "client_not_allowed", "bad_request", "upstream_error", "config_reloaded", "config_rejected",
                "token_revoked",
                "login_failed", "login_locked", "rate_limit_reset",
            ])
    }
}
