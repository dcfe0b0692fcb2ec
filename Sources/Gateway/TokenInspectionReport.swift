import Foundation
import GatewayCore

/// `gateway token inspect`'s output: the inspection with what the config requires, as text for a
/// terminal or as one JSON object. Values from the token are shown escaped (``Console/printable(_:)``).
struct TokenInspectionReport {
    let inspection: TokenInspection
    let jwt: JWTConfig
    let store: StoreSnapshot
    let now: Date

    init(_ inspection: TokenInspection, config: GatewayConfig, store: StoreSnapshot, now: Date) {
        self.inspection = inspection
        self.jwt = config.jwt
        self.store = store
        self.now = now
    }

    var text: String {
        var sections = ["token \(inspection.fingerprint) (fingerprint; \(inspection.byteCount) bytes, the token itself is not shown)"]
        sections.append(headerRows.map { Self.table("header", $0) } ?? "header: does not decode")
        sections.append(claimRows.map { Self.table("claims", $0) } ?? "claims: do not decode")
        sections.append((["checks"] + inspection.results.map { "  " + Console.printable(line($0)) }).joined(separator: "\n"))
        sections.append(Console.printable(verdict))
        return sections.joined(separator: "\n\n")
    }

    var json: String {
        get throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(JSONReport(self)), as: UTF8.self)
        }
    }

    private var verdict: String {
        let failures = inspection.results.compactMap { result -> String? in
            if case .failed(let reason) = result.outcome { reason } else { nil }
        }
        return inspection.isAccepted ? "accepted" : "refused: " + failures.joined(separator: "; ")
    }

    // MARK: Header and claims

    private var headerRows: [(String, String)]? {
        inspection.header.map { header in
            [("alg", header.algorithm ?? "-"), ("typ", header.type ?? "-"), ("kid", header.keyID ?? "-")]
                + header.ignoredParameters.map { ($0, "present (ignored)") }
        }
    }

    private var claimRows: [(String, String)]? {
        inspection.claims.map { claims in
            [
                ("sub", claims.subject ?? "-"),
                ("iss", claims.issuer ?? "-"),
                ("aud", claims.audience.isEmpty ? "-" : claims.audience.joined(separator: " ")),
                ("iat", time(claims.issuedAt)),
                ("nbf", time(claims.notBefore)),
                ("exp", time(claims.expiresAt)),
                ("jti", claims.tokenID ?? "-"),
                ("scope", claims.scopes.isEmpty ? "-" : claims.scopes.joined(separator: " ")),
                (jwt.rolesClaim, claims.roles.isEmpty ? "-" : claims.roles.joined(separator: " ")),
            ]
        }
    }

    private func time(_ date: Date?) -> String {
        date.map { Self.timestamp($0) + " (" + Self.relative($0, to: now) + ")" } ?? "-"
    }

    private static func table(_ title: String, _ rows: [(String, String)]) -> String {
        let rows = rows.map { (Console.printable($0), Console.printable($1)) }
        let width = rows.map(\.0.count).max() ?? 0
        let lines = rows.map { name, value in "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value }
        return ([title] + lines).joined(separator: "\n")
    }

    // MARK: Checks

    private func line(_ result: TokenInspection.Result) -> String {
        let title = Self.title(result.check)
        let detail = self.detail(result.check)
        switch result.outcome {
        case .passed: return "✓ " + title + (detail.map { ": " + $0 } ?? "")
        case .failed(let reason): return "✗ " + title + ": " + reason + (detail.map { " (" + $0 + ")" } ?? "")
        case .notChecked(let reason): return "– " + title + ": " + reason
        }
    }

    static func title(_ check: TokenCheck) -> String {
        switch check {
        case .size: "size ≤ 8 KiB"
        case .wellFormed: "well-formed"
        case .uniqueMembers: "no repeated member names"
        case .trustedIssuer: "issuer trusted"
        case .algorithm: "alg on the allowlist"
        case .key: "key found"
        case .signature: "signature valid"
        case .expiry: "exp present and not expired"
        case .notBefore: "nbf reached"
        case .issuedAt: "iat not in the future"
        case .lifetime: "lifetime within jwt.max_token_lifetime"
        case .issuer: "issuer"
        case .audience: "audience"
        case .subject: "sub present"
        case .notRevoked: "not revoked"
        }
    }

    /// What the check compared, from the claims and the config; `nil` when the line says enough.
    func detail(_ check: TokenCheck) -> String? {
        let claims = inspection.claims
        let leeway = "leeway \(jwt.leeway.configDescription)"
        switch check {
        case .size: return "\(inspection.byteCount) bytes"
        case .wellFormed, .uniqueMembers, .signature, .subject: return nil
        case .trustedIssuer:
            if let issuer = inspection.issuer { return "verified under \(issuer.configPath)" }
            let trusted = jwt.issuers.compactMap(\.issuer).map(Self.quoted).joined(separator: ", ")
            return "\(Self.quoted(claims?.issuer)); trusted: \(trusted)"
        case .algorithm:
            guard let issuer = inspection.issuer else { return nil }
            let allowed = "allowed: " + issuer.algorithms.map(\.rawValue).joined(separator: ", ")
            return inspection.header.map { ($0.algorithm ?? "no alg") + "; " + allowed }
        case .key: return keyDetail
        case .expiry:
            guard let claims else { return nil }
            guard let expiry = claims.expiresAt else { return jwt.requireExpiry ? nil : "no exp claim; jwt.require_exp = false" }
            return Self.relative(expiry, to: now) + ", " + leeway
        case .notBefore:
            return claims.map { $0.notBefore.map { Self.relative($0, to: now) + ", " + leeway } ?? "no nbf claim" }
        case .issuedAt:
            return claims.map { $0.issuedAt.map { Self.relative($0, to: now) + ", " + leeway } ?? "no iat claim" }
        case .lifetime: return lifetimeDetail
        case .issuer:
            guard let issuer = inspection.issuer else { return nil }
            guard let required = issuer.issuer else { return "\(issuer.configPath).issuer not set" }
            return "\(Self.quoted(claims?.issuer)), required \(Self.quoted(required))"
        case .audience:
            guard let issuer = inspection.issuer else { return nil }
            guard let required = issuer.audience else { return "\(issuer.configPath).audience not set" }
            let audience = claims?.audience ?? []
            return "\(audience.isEmpty ? "none" : audience.map(Self.quoted).joined(separator: ", ")), required \(Self.quoted(required))"
        case .notRevoked:
            return store.revocations.map { "\($0.count) revocation\($0.count == 1 ? "" : "s") in \(store.path)" }
        }
    }

    private var keyDetail: String? {
        guard let header = inspection.header else { return nil }
        if let algorithm = header.algorithm.flatMap(JWSAlgorithm.init(rawValue:)), algorithm.isHMAC { return "the HMAC secret" }
        return header.keyID.map { "kid \(Self.quoted($0))" } ?? "no kid: every public key tried"
    }

    private var lifetimeDetail: String? {
        guard let maximum = jwt.maxTokenLifetime else { return "jwt.max_token_lifetime not set" }
        let limit = "at most \(maximum.configDescription)"
        guard let issuedAt = inspection.claims?.issuedAt, let expiry = inspection.claims?.expiresAt else { return limit }
        let lifetime = Int(expiry.timeIntervalSince(issuedAt))
        return (lifetime < 0 ? "exp before iat" : Self.span(lifetime)) + ", " + limit
    }

    // MARK: Formatting

    /// ISO 8601 in UTC, to the second as tokens give times.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }

    /// "in 2h", "3m 20s ago", "now".
    static func relative(_ date: Date, to now: Date) -> String {
        let seconds = Int(date.timeIntervalSince(now).rounded())
        if seconds == 0 { return "now" }
        return seconds > 0 ? "in " + span(seconds) : span(-seconds) + " ago"
    }

    /// A number of seconds in its two largest units: "2h", "1h 59m", "45s".
    static func span(_ seconds: Int) -> String {
        let units = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")]
        guard let index = units.firstIndex(where: { seconds >= $0.0 }) else { return "0s" }
        let (size, name) = units[index]
        let first = "\(seconds / size)\(name)"
        guard index + 1 < units.count else { return first }
        let (nextSize, nextName) = units[index + 1]
        let second = seconds % size / nextSize
        return second == 0 ? first : first + " \(second)\(nextName)"
    }

    private static func quoted(_ text: String?) -> String {
        text.map { "\"\($0)\"" } ?? "none"
    }
}

/// ``TokenInspectionReport`` as JSON: times in ISO 8601, every check with its outcome.
private struct JSONReport: Encodable {
    struct Header: Encodable {
        let alg: String?
        let typ: String?
        let kid: String?
        let ignoredParameters: [String]

        enum CodingKeys: String, CodingKey {
            case alg, typ, kid
            case ignoredParameters = "ignored_parameters"
        }
    }

    struct Claims: Encodable {
        let sub, iss: String?
        let aud: [String]
        let iat, nbf, exp: String?
        let jti: String?
        let scopes: [String]
        let roles: [String]
    }

    struct Check: Encodable {
        let check: String
        let title: String
        let result: String
        let reason: String?
        let detail: String?
    }

    let fingerprint: String
    let bytes: Int
    let accepted: Bool
    let header: Header?
    let claims: Claims?
    let rolesClaim: String
    let checks: [Check]

    enum CodingKeys: String, CodingKey {
        case fingerprint, bytes, accepted, header, claims, checks
        case rolesClaim = "roles_claim"
    }

    init(_ report: TokenInspectionReport) {
        let inspection = report.inspection
        fingerprint = inspection.fingerprint
        bytes = inspection.byteCount
        accepted = inspection.isAccepted
        header = inspection.header.map {
            Header(alg: $0.algorithm, typ: $0.type, kid: $0.keyID, ignoredParameters: $0.ignoredParameters)
        }
        claims = inspection.claims.map {
            Claims(
                sub: $0.subject, iss: $0.issuer, aud: $0.audience,
                iat: $0.issuedAt.map(TokenInspectionReport.timestamp), nbf: $0.notBefore.map(TokenInspectionReport.timestamp),
                exp: $0.expiresAt.map(TokenInspectionReport.timestamp), jti: $0.tokenID, scopes: $0.scopes, roles: $0.roles)
        }
        rolesClaim = report.jwt.rolesClaim
        checks = inspection.results.map { result in
            let (outcome, reason): (String, String?) =
                switch result.outcome {
                case .passed: ("passed", nil)
                case .failed(let reason): ("failed", reason)
                case .notChecked(let reason): ("not_checked", reason)
                }
            return Check(
                check: result.check.rawValue, title: TokenInspectionReport.title(result.check), result: outcome, reason: reason,
                detail: report.detail(result.check))
        }
    }
}
