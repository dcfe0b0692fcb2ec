import Crypto
import Foundation

/// Signs HS256 tokens with the shared test secret, for claims the userservice would never issue.
enum IntegrationTokens {
    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hs256(_ claims: [String: Any]) -> String {
        sign(header: ["alg": "HS256", "typ": "JWT"], claims: claims) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(Fixtures.jwtSecret.utf8))))
        }
    }

    static func es256(header: [String: Any], claims: [String: Any], key: P256.Signing.PrivateKey) -> String {
        sign(header: header, claims: claims) { try! key.signature(for: $0).rawRepresentation }
    }

    static func sign(header: [String: Any], claims: [String: Any], signer: (Data) -> Data) -> String {
        let input =
            base64URL(try! JSONSerialization.data(withJSONObject: header)) + "."
            + base64URL(try! JSONSerialization.data(withJSONObject: claims))
        return input + "." + base64URL(signer(Data(input.utf8)))
    }
}
