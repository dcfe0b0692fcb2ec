import Foundation
import NIOHTTP1

/// The value a request has for a policy's key: the counter it is counted against.
///
/// Values of headers and claims (an API key, an e-mail address) are kept only as fingerprints:
/// counters are stored, shown by `gateway limits` and named in audit events.
public struct RateLimitKeying: Sendable {
    let ipv6Prefix: Int

    /// `client` is the resolved client address: a forwarding header from a peer that is not a
    /// trusted proxy never changes it.
    func value(of key: RateLimitKey, client: String, identity: VerifiedIdentity?, headers: HTTPHeaders) -> String {
        switch key {
        case .ip:
            return ip(client)
        case .subject, .subjectOrIP:
            // `subject` is only configured on routes that require a token; without one it falls back
            // to the address rather than to a shared or absent counter.
            return identity.map(Self.subject) ?? ip(client)
        case .header(let name):
            // Without the header a request counts against its address, never a counter all such requests share.
            let value = headers[name].joined(separator: ",")
            return value.isEmpty ? ip(client) : Self.fingerprinted("header:\(name)", value)
        case .claim(let name):
            guard let value = identity?.claims[name], !value.isEmpty else { return identity.map(Self.subject) ?? ip(client) }
            return Self.fingerprinted("claim:\(name)", value)
        }
    }

    private func ip(_ client: String) -> String {
        "ip:" + CIDR.clientKey(client, ipv6Prefix: ipv6Prefix)
    }

    /// `sub:SUBJECT@ISSUER`, or `sub:SUBJECT` for a token without `iss`; `%` and `@` inside either
    /// are escaped (`%25`, `%40`), so that no two identities share a key.
    static func subject(_ identity: VerifiedIdentity) -> String {
        "sub:" + escape(identity.subject) + (identity.issuer.map { "@" + escape($0) } ?? "")
    }

    private static func escape(_ part: String) -> String {
        guard part.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "@") }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "@", with: "%40")
    }

    /// The counter key an operator means: `ip:ADDRESS`, `sub:SUBJECT[@ISSUER]`, or `header:NAME=VALUE`
    /// and `claim:NAME=VALUE`, whose values are fingerprinted as requests' are. `nil` for anything else.
    public static func counterKey(operatorInput input: String) -> String? {
        for kind in ["header:", "claim:"] where input.hasPrefix(kind) {
            let parts = input.dropFirst(kind.count).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else { return nil }
            let name = kind == "header:" ? parts[0].lowercased() : String(parts[0])
            return fingerprinted(kind + name, String(parts[1]))
        }
        let isDirect = (input.hasPrefix("ip:") || input.hasPrefix("sub:")) && input.split(separator: ":", maxSplits: 1).count == 2
        return isDirect ? input : nil
    }

    /// `header:NAME#FINGERPRINT` for a value.
    static func fingerprinted(_ prefix: String, _ value: String) -> String {
        prefix + "#" + AuditEvent.fingerprint(ofToken: value)
    }
}
