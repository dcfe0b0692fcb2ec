import Foundation
import JWTKit

/// The claims the gateway reads: the registered ones, OAuth's `scope` (or `scp`), and the roles
/// claim whose name the config chooses (passed in through the decoder's `userInfo`).
struct GatewayClaims: JWTPayload {
    static let rolesClaimKey = CodingUserInfoKey(rawValue: "gateway.rolesClaim")!
    /// The names of the claims an identity carries: those forwarded as headers (`jwt.claim_headers`) and those rate policies key by.
    static let forwardedClaimsKey = CodingUserInfoKey(rawValue: "gateway.forwardedClaims")!

    var sub: SubjectClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var jti: IDClaim?
    var scopes: [String]
    var roles: [String]
    /// Those claims (``forwardedClaimsKey``) that are a string, number or boolean, as text.
    var forwarded: [String: String]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        sub = try container.decodeIfPresent(SubjectClaim.self, forKey: Key(stringValue: "sub"))
        exp = try container.decodeIfPresent(ExpirationClaim.self, forKey: Key(stringValue: "exp"))
        nbf = try container.decodeIfPresent(NotBeforeClaim.self, forKey: Key(stringValue: "nbf"))
        iat = try container.decodeIfPresent(IssuedAtClaim.self, forKey: Key(stringValue: "iat"))
        iss = try container.decodeIfPresent(IssuerClaim.self, forKey: Key(stringValue: "iss"))
        aud = try container.decodeIfPresent(AudienceClaim.self, forKey: Key(stringValue: "aud"))
        jti = try container.decodeIfPresent(IDClaim.self, forKey: Key(stringValue: "jti"))
        scopes =
            try container.decodeIfPresent(String.self, forKey: Key(stringValue: "scope")).map(Self.words)
            ?? container.decodeIfPresent([String].self, forKey: Key(stringValue: "scp")) ?? []
        let rolesKey = Key(stringValue: decoder.userInfo[Self.rolesClaimKey] as? String ?? "roles")
        if let single = try? container.decodeIfPresent(String.self, forKey: rolesKey) {
            roles = Self.words(single)
        } else {
            roles = try container.decodeIfPresent([String].self, forKey: rolesKey) ?? []
        }
        forwarded = [:]
        for name in decoder.userInfo[Self.forwardedClaimsKey] as? [String] ?? [] {
            let key = Key(stringValue: name)
            if let text = try? container.decodeIfPresent(String.self, forKey: key) {
                forwarded[name] = text
            } else if let number = try? container.decodeIfPresent(Int64.self, forKey: key) {
                forwarded[name] = String(number)
            } else if let flag = try? container.decodeIfPresent(Bool.self, forKey: key) {
                forwarded[name] = String(flag)
            }
        }
    }

    /// Only decoding is used; encoding writes the registered claims and the scopes.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(sub, forKey: Key(stringValue: "sub"))
        try container.encodeIfPresent(exp, forKey: Key(stringValue: "exp"))
        try container.encodeIfPresent(iat, forKey: Key(stringValue: "iat"))
        try container.encode(scopes.joined(separator: " "), forKey: Key(stringValue: "scope"))
    }

    /// Claims are checked by ``TokenVerifier`` against an injected clock, not here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    private static func words(_ text: String) -> [String] {
        text.split(separator: " ").map(String.init)
    }
}
