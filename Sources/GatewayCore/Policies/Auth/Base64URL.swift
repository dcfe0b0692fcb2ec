import Foundation

/// Unpadded base64url (RFC 4648 §5), as JWS segments and JWK members use it.
enum Base64URL {
    /// The decoded bytes, or `nil` when `text` is not base64url.
    static func decode(_ text: some StringProtocol) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
