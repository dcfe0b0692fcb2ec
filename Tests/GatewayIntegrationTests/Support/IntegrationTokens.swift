import Crypto
import Foundation

/// Signs HS256 tokens with the shared test secret, for claims the userservice would never issue.
enum IntegrationTokens {
    static func hs256(_ claims: [String: Any]) -> String {
        func encode(_ data: Data) -> String {
            data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = encode(try! JSONSerialization.data(withJSONObject: ["alg": "HS256", "typ": "JWT"]))
        let payload = encode(try! JSONSerialization.data(withJSONObject: claims))
        let input = header + "." + payload
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(Fixtures.jwtSecret.utf8)))
        return input + "." + encode(Data(mac))
    }
}
