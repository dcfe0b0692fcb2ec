import Foundation

/// A revoked token, or every token of a subject issued up to ``revokedAt``.
public struct Revocation: Sendable, Equatable {
    /// What is revoked.
    public enum Kind: Sendable, Hashable {
        /// The token whose `jti` claim is this.
        case tokenID(String)
        /// Every token whose `sub` is this and whose `iat` is not after ``Revocation/revokedAt``.
        case subject(String)
    }

    public var kind: Kind
    public var revokedAt: Date
    /// When the revocation may be pruned because every token it covers has expired anyway; for
    /// a subject, `revokedAt` plus the longest token lifetime. `nil` keeps it forever.
    public var expiresAt: Date?

    public init(kind: Kind, revokedAt: Date, expiresAt: Date?) {
        self.kind = kind
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }
}

extension Revocation {
    private static let tokenIDKind = "jti"
    private static let subjectKind = "subject"

    /// The kind and value columns both stores keep a revocation under.
    var stored: (kind: String, value: String) {
        switch kind {
        case .tokenID(let id): (Self.tokenIDKind, id)
        case .subject(let subject): (Self.subjectKind, subject)
        }
    }

    /// A revocation read back from its stored columns; throws for a kind no gateway writes.
    init(storedKind: String, value: String, revokedAt: Date, expiresAt: Date?) throws(StoreError) {
        switch storedKind {
        case Self.tokenIDKind: kind = .tokenID(value)
        case Self.subjectKind: kind = .subject(value)
        default: throw StoreError.unreadableRow(in: "revocation", "unknown kind \(storedKind.debugDescription)")
        }
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }
}
