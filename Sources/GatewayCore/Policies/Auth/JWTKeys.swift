import Crypto
import Foundation
import JWTKit

/// The keys one issuer's tokens are verified with: the HMAC secret and the public keys, loaded once at start.
struct JWTKeys: Sendable {
    /// A public key with the `kid` and `alg` its JWK gave it, if any.
    struct PublicKey: Sendable {
        let keyID: String?
        let algorithm: String?
        let key: JWSPublicKey
    }

    /// At most this many public keys are tried for a token without `kid` (each try may cost a
    /// signature check, and a refused token is not cached).
    static let maximumUnnamedCandidates = 4

    let secret: SymmetricKey?
    let publicKeys: [PublicKey]
    /// Keys fetched from the issuer's `jwks_url`, refreshed in the background.
    let remote: RemoteKeySet?

    init(secret: [UInt8]?, publicKeys: [PublicKey], remote: RemoteKeySet? = nil) {
        self.secret = secret.map { SymmetricKey(data: $0) }
        self.publicKeys = publicKeys
        self.remote = remote
    }

    /// Reads the issuer's `public_key_file` and `jwks_file`. Blocking file I/O: call off the event loops.
    static func loadPublicKeys(_ config: IssuerConfig) throws(StartupError) -> [PublicKey] {
        var keys: [PublicKey] = []
        if let path = config.publicKeyFile {
            let key = "\(config.configPath).public_key_file"
            guard let data = FileManager.default.contents(atPath: path) else { throw StartupError(key, "cannot read \(path)") }
            guard let publicKey = JWSPublicKey(pem: String(decoding: data, as: UTF8.self)) else {
                throw StartupError(key, "\(path) holds no PEM RSA, P-256, P-384 or Ed25519 public key")
            }
            keys.append(PublicKey(keyID: nil, algorithm: nil, key: publicKey))
        }
        if let path = config.jwksFile {
            let key = "\(config.configPath).jwks_file"
            guard let data = FileManager.default.contents(atPath: path) else { throw StartupError(key, "cannot read \(path)") }
            do {
                keys += try parseJWKS(data)
            } catch {
                throw StartupError(key, "\(path): \(error.message)")
            }
        }
        return keys
    }

    /// Why a JWKS document was refused.
    struct JWKSError: Error {
        let message: String
    }

    /// The signing keys of a JWKS document. Keys the gateway cannot use (another type, curve or
    /// algorithm, or `use` other than `sig`) are skipped, so one encryption key published beside the
    /// signing keys does not break the set; a document with no usable key, or one that parsers could
    /// read differently (a repeated member name), is refused.
    static func parseJWKS(_ data: Data) throws(JWKSError) -> [PublicKey] {
        if let ambiguity = JSONReader.decisions.ambiguity(in: data) {
            throw JWKSError(message: "not a JWKS document: \(ambiguity.description)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["keys"] as? [[String: Any]]
        else { throw JWKSError(message: "not a JWKS document") }
        let keys = entries.compactMap { entry -> PublicKey? in
            if let use = entry["use"] as? String, use != "sig" { return nil }
            guard let json = try? JSONSerialization.data(withJSONObject: entry),
                let jwk = try? JSONDecoder().decode(JWK.self, from: json), let key = JWSPublicKey(jwk: jwk)
            else { return nil }
            return PublicKey(keyID: jwk.keyIdentifier?.string, algorithm: jwk.algorithm?.rawValue, key: key)
        }
        guard !keys.isEmpty else { throw JWKSError(message: "holds no usable signing key") }
        return keys
    }

    /// Whether any public key is available now (a JWKS URL may not have answered yet).
    var hasPublicKeys: Bool { !publicKeys.isEmpty || !(remote?.keys.isEmpty ?? true) }

    /// Whether `signature` signs `input` under `algorithm`, with the key `keyID` names (or, without
    /// a `kid`, any key). `nil` when `keyID` names no key; a JWKS URL is then asked to refresh.
    func verify(_ signature: Data, over input: ArraySlice<UInt8>, algorithm: JWSAlgorithm, keyID: String?) -> Bool? {
        if algorithm.isHMAC {
            guard let secret else { return false }
            switch algorithm {
            case .hs384: return HMAC<SHA384>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            case .hs512: return HMAC<SHA512>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            default: return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: secret)
            }
        }
        let all = publicKeys + (remote?.keys ?? [])
        let candidates = keyID.map { id in all.filter { $0.keyID == id } } ?? Array(all.prefix(Self.maximumUnnamedCandidates))
        if keyID != nil, candidates.isEmpty {
            remote?.requestRefresh()
            return nil
        }
        return candidates.contains { candidate in
            (candidate.algorithm == nil || candidate.algorithm == algorithm.rawValue)
                && candidate.key.verifies(signature, over: input, algorithm: algorithm)
        }
    }
}
