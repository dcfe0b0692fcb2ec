/// The JWS algorithms the gateway can verify (RFC 7518). `none` is not one of them, in any casing.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
    case ps256 = "PS256"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    /// Verified with the shared secret rather than a public key.
    public var isHMAC: Bool { self == .hs256 || self == .hs384 || self == .hs512 }
}
