import Crypto
import Foundation
import JWTKit

/// The keys tokens are verified with: the HMAC secret and the public keys, loaded once at start.
struct JWTKeys: Sendable {
    /// A public key with the `kid` and `alg` its JWK gave it, if any.
    struct PublicKey: Sendable {
        let keyID: String?
        let algorithm: String?
        let key: JWSPublicKey
    }

    /// At most this many public keys are tried for a token without `kid`.
    static let maximumUnnamedCandidates = 16

    let secret: SymmetricKey?
    let publicKeys: [PublicKey]

    init(secret: [UInt8]?, publicKeys: [PublicKey]) {
        self.secret = secret.map { SymmetricKey(data: $0) }
        self.publicKeys = publicKeys
    }

    /// Reads `jwt.public_key_file` and `jwt.jwks_file`. Blocking file I/O: call off the event loops.
    static func loadPublicKeys(_ config: JWTConfig) throws(StartupError) -> [PublicKey] {
        var keys: [PublicKey] = []
        if let path = config.publicKeyFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartupError("jwt.public_key_file", "cannot read \(path)")
            }
            guard let key = JWSPublicKey(pem: String(decoding: data, as: UTF8.self)) else {
                throw StartupError("jwt.public_key_file", "\(path) holds no PEM RSA, P-256, P-384 or Ed25519 public key")
            }
            keys.append(PublicKey(keyID: nil, algorithm: nil, key: key))
        }
        if let path = config.jwksFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartupError("jwt.jwks_file", "cannot read \(path)")
            }
            guard let jwks = try? JSONDecoder().decode(JWKS.self, from: data) else {
                throw StartupError("jwt.jwks_file", "\(path) is not a JWKS document")
            }
            for jwk in jwks.keys {
                guard let key = JWSPublicKey(jwk: jwk) else {
                    throw StartupError("jwt.jwks_file", "\(path) holds a key the gateway cannot use (kty \(jwk.keyType.rawValue))")
                }
                keys.append(PublicKey(keyID: jwk.keyIdentifier?.string, algorithm: jwk.algorithm?.rawValue, key: key))
            }
        }
        return keys
    }

    /// Whether `signature` signs `input` under `algorithm`, with the key `keyID` names (or, without
    /// a `kid`, any key). `nil` when `keyID` names no key.
    func verify(_ signature: Data, over input: ArraySlice<UInt8>, algorithm: JWSAlgorithm, keyID: String?) -> Bool? {
        if algorithm.isHMAC {
            guard let secret else { return false }
            switch algorithm {
            case .hs384: return HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            case .hs512: return HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            default: return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            }
        }
        let candidates = keyID.map { id in publicKeys.filter { $0.keyID == id } }
            ?? Array(publicKeys.prefix(Self.maximumUnnamedCandidates))
        if keyID != nil, candidates.isEmpty { return nil }
        return candidates.contains { candidate in
            (candidate.algorithm == nil || candidate.algorithm == algorithm.rawValue)
                && candidate.key.verifies(signature, over: input, algorithm: algorithm)
        }
    }
}
