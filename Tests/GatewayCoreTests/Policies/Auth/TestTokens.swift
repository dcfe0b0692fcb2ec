import Crypto
import Foundation

/// Builds compact JWS tokens byte by byte, so tests can also build the hostile ones.
enum TestTokens {
    static let secret = Array("test-secret-0123456789-abcdefghijklmnop".utf8)

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// `header.payload.signature` with an HS256 signature over the first two parts.
    static func make(header: String, payload: String, secret: [UInt8] = secret) -> String {
        let input = base64URL(Data(header.utf8)) + "." + base64URL(Data(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + base64URL(Data(mac))
    }

    /// A token signed with `secret` whose claims name `sub` twice: `forge` first, `admin` last.
    static func repeatedSubject(now: Date) -> String {
        let first = String(decoding: json(claims(sub: "forge", now: now)), as: UTF8.self)
        return make(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: first.dropLast() + #","sub":"admin"}"#)
    }

    static func make(claims: [String: Any], alg: String = "HS256", secret: [UInt8] = secret) -> String {
        make(
            header: String(decoding: json(["alg": alg, "typ": "JWT"]), as: UTF8.self),
            payload: String(decoding: json(claims), as: UTF8.self), secret: secret)
    }

    static func claims(
        sub: String = "42", expiresIn: TimeInterval = 3600, now: Date, extra: [String: Any] = [:]
    ) -> [String: Any] {
        var claims: [String: Any] = [
            "sub": sub, "exp": Int(now.timeIntervalSince1970 + expiresIn), "iat": Int(now.timeIntervalSince1970),
            "iss": "userservice", "aud": "gateway", "scope": "user",
        ]
        for (key, value) in extra { claims[key] = value }
        return claims
    }
}
