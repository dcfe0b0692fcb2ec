import Crypto
import Foundation
import JWTKit
import SwiftASN1
import X509
import _CryptoExtras

/// A public key that checks JWS signatures, synchronously, with swift-crypto.
///
/// Keys come from a PEM file (parsed by swift-certificates) or a JWK (parsed by JWTKit). A key only
/// ever verifies the algorithms of its own type, so an HMAC token can never be checked against it.
enum JWSPublicKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// A PEM `PUBLIC KEY` (SubjectPublicKeyInfo) of any supported type.
    init?(pem: String) {
        guard let key = try? Certificate.PublicKey(pemEncoded: pem) else { return nil }
        if let rsa = _RSA.Signing.PublicKey(key) {
            self = .rsa(rsa)
        } else if let p256 = P256.Signing.PublicKey(key) {
            self = .p256(p256)
        } else if let p384 = P384.Signing.PublicKey(key) {
            self = .p384(p384)
        } else if let ed25519 = Curve25519.Signing.PublicKey(key) {
            self = .ed25519(ed25519)
        } else {
            return nil
        }
    }

    /// A JWK of type RSA, EC (P-256, P-384) or OKP (Ed25519); `nil` for anything else.
    init?(jwk: JWK) {
        switch jwk.keyType {
        case .rsa:
            guard let n = jwk.modulus.flatMap(Self.base64URL), let e = jwk.exponent.flatMap(Self.base64URL),
                let key = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { return nil }
            self = .rsa(key)
        case .ecdsa:
            guard let x = jwk.x.flatMap(Self.base64URL), let y = jwk.y.flatMap(Self.base64URL) else { return nil }
            let point = [0x04] + x + y
            switch jwk.curve?.rawValue {
            case "P-256":
                guard let key = try? P256.Signing.PublicKey(x963Representation: point) else { return nil }
                self = .p256(key)
            case "P-384":
                guard let key = try? P384.Signing.PublicKey(x963Representation: point) else { return nil }
                self = .p384(key)
            default: return nil
            }
        case .octetKeyPair:
            guard jwk.curve?.rawValue == "Ed25519", let x = jwk.x.flatMap(Self.base64URL),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x)
            else { return nil }
            self = .ed25519(key)
        default:
            return nil
        }
    }

    /// Whether `signature` is this key's signature of `input` under `algorithm`; false whenever the
    /// algorithm does not belong to this key's type.
    func verifies(_ signature: Data, over input: ArraySlice<UInt8>, algorithm: JWSAlgorithm) -> Bool {
        switch (self, algorithm) {
        case (.rsa(let key), .rs256): Self.rsa(key, signature, SHA256.hash(data: input), .insecurePKCS1v1_5)
        case (.rsa(let key), .rs384): Self.rsa(key, signature, SHA384.hash(data: input), .insecurePKCS1v1_5)
        case (.rsa(let key), .rs512): Self.rsa(key, signature, SHA512.hash(data: input), .insecurePKCS1v1_5)
        case (.rsa(let key), .ps256): Self.rsa(key, signature, SHA256.hash(data: input), .PSS)
        case (.p256(let key), .es256):
            (try? P256.Signing.ECDSASignature(rawRepresentation: signature)).map { key.isValidSignature($0, for: input) } ?? false
        case (.p384(let key), .es384):
            (try? P384.Signing.ECDSASignature(rawRepresentation: signature)).map { key.isValidSignature($0, for: input) } ?? false
        case (.ed25519(let key), .edDSA): key.isValidSignature(signature, for: input)
        default: false
        }
    }

    private static func rsa(
        _ key: _RSA.Signing.PublicKey, _ signature: Data, _ digest: some Digest, _ padding: _RSA.Signing.Padding
    ) -> Bool {
        key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: padding)
    }

    private static func base64URL(_ text: String) -> [UInt8]? {
        Base64URL.decode(text).map(Array.init)
    }
}
