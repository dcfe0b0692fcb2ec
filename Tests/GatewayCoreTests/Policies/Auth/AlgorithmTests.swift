import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import GatewayCore

/// Test-only signing keys of every supported type, made fresh for each run.
struct SigningKeys {
    let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let p256 = P256.Signing.PrivateKey()
    let p384 = P384.Signing.PrivateKey()
    let ed25519 = Curve25519.Signing.PrivateKey()
    let directory: URL

    init() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jws-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func sign(_ input: Data, _ algorithm: JWSAlgorithm) -> Data {
        switch algorithm {
        case .hs256: Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: TestTokens.secret)))
        case .hs384: Data(HMAC<SHA384>.authenticationCode(for: input, using: SymmetricKey(data: TestTokens.secret)))
        case .hs512: Data(HMAC<SHA512>.authenticationCode(for: input, using: SymmetricKey(data: TestTokens.secret)))
        case .rs256: try! rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case .rs384: try! rsa.signature(for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case .rs512: try! rsa.signature(for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation
        case .ps256: try! rsa.signature(for: SHA256.hash(data: input), padding: .PSS).rawRepresentation
        case .es256: try! p256.signature(for: input).rawRepresentation
        case .es384: try! p384.signature(for: input).rawRepresentation
        case .edDSA: try! ed25519.signature(for: input)
        }
    }

    /// A compact token with `header` fields, `claims`, signed by `signer` (default: the right key for `alg`).
    func token(_ header: [String: Any], claims: [String: Any], signer: ((Data) -> Data)? = nil) -> String {
        let input = TestTokens.base64URL(TestTokens.json(header)) + "." + TestTokens.base64URL(TestTokens.json(claims))
        let algorithm = JWSAlgorithm(rawValue: header["alg"] as? String ?? "") ?? .hs256
        let signature = signer?(Data(input.utf8)) ?? sign(Data(input.utf8), algorithm)
        return input + "." + TestTokens.base64URL(signature)
    }

    /// A JWKS with every public key, named by `kid`s "rsa", "p256", "p384", "ed".
    func jwksFile() -> String {
        func b64(_ bytes: some DataProtocol) -> String { TestTokens.base64URL(Data(bytes)) }
        let rsaPublic = try! rsa.publicKey.getKeyPrimitives()
        let p256Point = p256.publicKey.x963Representation.dropFirst()
        let p384Point = p384.publicKey.x963Representation.dropFirst()
        let keys: [[String: Any]] = [
            ["kty": "RSA", "kid": "rsa", "n": b64(rsaPublic.modulus), "e": b64(rsaPublic.publicExponent)],
            ["kty": "EC", "kid": "p256", "crv": "P-256", "x": b64(p256Point.prefix(32)), "y": b64(p256Point.suffix(32))],
            ["kty": "EC", "kid": "p384", "crv": "P-384", "x": b64(p384Point.prefix(48)), "y": b64(p384Point.suffix(48))],
            ["kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(ed25519.publicKey.rawRepresentation)],
        ]
        return write("jwks.json", TestTokens.json(["keys": keys]))
    }

    func pemFile(_ pem: String) -> String { write(UUID().uuidString + ".pem", Data(pem.utf8)) }

    private func write(_ name: String, _ data: Data) -> String {
        let path = directory.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return path
    }
}

@Suite("Signature algorithms and keys")
struct AlgorithmTests {
    static let keys = SigningKeys()
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var claims: [String: Any] { TestTokens.claims(now: now) }

    func verifier(_ algorithms: [JWSAlgorithm], publicKeyFile: String? = nil, jwks: Bool = true) throws -> TokenVerifier {
        let issuer = IssuerConfig(algorithms: algorithms, publicKeyFile: publicKeyFile, jwksFile: jwks ? Self.keys.jwksFile() : nil)
        let keys = JWTKeys(secret: TestTokens.secret, publicKeys: try JWTKeys.loadPublicKeys(issuer))
        return TokenVerifier(issuers: [TokenIssuer(config: issuer, keys: keys)], config: JWTConfig(issuers: [issuer]))
    }

    static let kids: [JWSAlgorithm: String] = [
        .rs256: "rsa", .rs384: "rsa", .rs512: "rsa", .ps256: "rsa", .es256: "p256", .es384: "p384", .edDSA: "ed",
    ]

    @Test("accepts a valid token of every supported algorithm when it is allowed", arguments: JWSAlgorithm.allCases)
    func everyAlgorithm(_ algorithm: JWSAlgorithm) throws {
        var header: [String: Any] = ["alg": algorithm.rawValue]
        header["kid"] = Self.kids[algorithm]
        let token = Self.keys.token(header, claims: claims)
        #expect(try verifier([algorithm]).verify(Substring(token), now: now).subject == "42")
    }

    @Test("refuses an algorithm that is not on the allowlist, even with a good signature")
    func notAllowed() throws {
        let token = Self.keys.token(["alg": "ES256", "kid": "p256"], claims: claims)
        #expect(throws: TokenRejection.algorithm) { try verifier([.rs256]).verify(Substring(token), now: now) }
    }

    @Test("refuses HS256 signed with the RSA public key's PEM (key confusion)")
    func keyConfusion() throws {
        let pem = Self.keys.rsa.publicKey.pemRepresentation
        let verifier = try verifier([.hs256, .rs256], publicKeyFile: Self.keys.pemFile(pem), jwks: false)
        let forged = Self.keys.token(["alg": "HS256"], claims: claims) { input in
            Data(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: Data(pem.utf8))))
        }
        #expect(throws: TokenRejection.signature) { try verifier.verify(Substring(forged), now: now) }
    }

    @Test("a PEM public key verifies without a kid")
    func pemKey() throws {
        let verifier = try verifier([.es256], publicKeyFile: Self.keys.pemFile(Self.keys.p256.publicKey.pemRepresentation), jwks: false)
        #expect(try verifier.verify(Substring(Self.keys.token(["alg": "ES256"], claims: claims)), now: now).subject == "42")
    }

    @Test(
        "an unknown kid, or one with path or SQL characters, is refused as unknown",
        arguments: [
            "nope", "../../../../etc/passwd", "' OR '1'='1", "rsa\u{0}",
        ])
    func unknownKeyID(_ kid: String) throws {
        let token = Self.keys.token(["alg": "RS256", "kid": kid], claims: claims)
        #expect(throws: TokenRejection.unknownKey) { try verifier([.rs256]).verify(Substring(token), now: now) }
    }

    @Test("jku, x5u and jwk headers pointing at the attacker's key are ignored")
    func remoteKeyHeaders() throws {
        let attacker = P256.Signing.PrivateKey()
        let token = Self.keys.token(
            [
                "alg": "ES256", "kid": "p256", "jku": "https://evil.example/jwks.json", "x5u": "https://evil.example/cert.pem",
                "jwk": ["kty": "EC", "crv": "P-256"],
            ],
            claims: claims
        ) { try! attacker.signature(for: $0).rawRepresentation }
        #expect(throws: TokenRejection.signature) { try verifier([.es256]).verify(Substring(token), now: now) }
    }

    @Test("duplicate member names in the header are refused")
    func duplicateHeaderKeys() throws {
        let header = #"{"alg":"HS256","alg":"none"}"#
        let token = TestTokens.make(header: header, payload: String(decoding: TestTokens.json(claims), as: UTF8.self))
        #expect(throws: TokenRejection.repeatedMember) { try verifier([.hs256]).verify(Substring(token), now: now) }
        #expect(!JSONReader.decisions.isUnambiguous(Array(#"{"a":{"b":1,"b":2}}"#.utf8)), "at any depth")
        #expect(!JSONReader.decisions.isUnambiguous(Array(#"{"a\"b":1,"a\"b":2}"#.utf8)))
        #expect(!JSONReader.decisions.isUnambiguous(Array(#"{"alg":"HS256","\u0061lg":"none"}"#.utf8)), "escapes are resolved")
        #expect(JSONReader.decisions.isUnambiguous(Array(#"{"a":{"b":1},"c":{"b":2}}"#.utf8)))
    }

    @Test("an ECDSA signature in DER form instead of raw r||s is refused")
    func derSignature() throws {
        let token = Self.keys.token(["alg": "ES256", "kid": "p256"], claims: claims) { input in
            try! Self.keys.p256.signature(for: input).derRepresentation
        }
        #expect(throws: TokenRejection.signature) { try verifier([.es256]).verify(Substring(token), now: now) }
    }
}

@Suite("Key sets and header rules")
struct KeySetTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a JWKS keeps its signing keys and skips keys it cannot use; one with none is refused")
    func skipsUnusableKeys() throws {
        let p256 = P256.Signing.PrivateKey().publicKey.x963Representation.dropFirst()
        let signing: [String: Any] = [
            "kty": "EC", "crv": "P-256", "kid": "s", "x": TestTokens.base64URL(p256.prefix(32)), "y": TestTokens.base64URL(p256.suffix(32)),
        ]
        var encryption = signing
        encryption["use"] = "enc"
        encryption["kid"] = "e"
        let symmetric: [String: Any] = ["kty": "oct", "kid": "o", "k": "c2VjcmV0"]
        let keys = try JWTKeys.parseJWKS(TestTokens.json(["keys": [symmetric, encryption, signing]]))
        #expect(keys.map(\.keyID) == ["s"])
        #expect(throws: JWTKeys.JWKSError.self) { try JWTKeys.parseJWKS(TestTokens.json(["keys": [symmetric]])) }
        #expect(throws: JWTKeys.JWKSError.self) { try JWTKeys.parseJWKS(Data("[]".utf8)) }
    }

    @Test("a JWKS document that parsers could read two ways (a repeated member name) is refused")
    func repeatedMemberInJWKS() throws {
        let p256 = P256.Signing.PrivateKey().publicKey.x963Representation.dropFirst()
        let key =
            #"{"kty":"EC","crv":"P-256","kid":"s","x":"\#(TestTokens.base64URL(p256.prefix(32)))","y":"\#(TestTokens.base64URL(p256.suffix(32)))"}"#
        _ = try JWTKeys.parseJWKS(Data(#"{"keys":[\#(key)]}"#.utf8))
        let repeated = [
            #"{"keys":[\#(key)],"keys":[]}"#, #"{"keys":[\#(key.dropLast()),"kid":"other"}]}"#,
            #"{"keys":[\#(key.dropLast()),"use":"enc","use":"sig"}]}"#,
        ]
        for document in repeated {
            #expect(throws: JWTKeys.JWKSError.self) { try JWTKeys.parseJWKS(Data(document.utf8)) }
        }
    }

    @Test("a token with a crit header is refused")
    func critical() {
        let verifier = TokenVerifier(secret: TestTokens.secret, config: JWTConfig())
        let token = TestTokens.make(
            header: #"{"alg":"HS256","crit":["exp"]}"#,
            payload: String(decoding: TestTokens.json(TestTokens.claims(now: now)), as: UTF8.self))
        #expect(throws: TokenRejection.malformed) { try verifier.verify(Substring(token), now: now) }
    }

    @Test("a subject or scope that could not travel as a header is refused")
    func unsafeIdentity() {
        let verifier = TokenVerifier(secret: TestTokens.secret, config: JWTConfig())
        for claims in [TestTokens.claims(sub: "42\r\nX-Evil: 1", now: now), TestTokens.claims(now: now, extra: ["scope": "a\u{0}b"])] {
            #expect(throws: TokenRejection.malformed) { try verifier.verify(Substring(TestTokens.make(claims: claims)), now: now) }
        }
    }

    @Test("a cached token is verified again after five minutes")
    func cacheMaximumAge() {
        let cache = VerifiedTokenCache(capacity: 4)
        cache.insert(VerifiedIdentity(subject: "42", scopes: [], expiresAt: now.addingTimeInterval(3600)), for: "t", now: now)
        #expect(cache.identity(for: "t", now: now.addingTimeInterval(299), leeway: 0) != nil)
        #expect(cache.identity(for: "t", now: now.addingTimeInterval(301), leeway: 0) == nil)
    }
}
