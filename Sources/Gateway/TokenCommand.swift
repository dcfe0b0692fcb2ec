import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage bearer tokens.",
            subcommands: [Revoke.self, Inspect.self]
        )
    }
}

extension GatewayCommand.Token {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one token, or every token of a subject issued until now.",
            discussion: """
                The revocation is stored in the gateway's store (store.path), which a running gateway reads \
                without restart or reload, and a token_revoked audit event is recorded. It is kept for \
                30 days, the longest lifetime a token is assumed to have, and \
                pruned after that. Run this as the user the gateway runs as, so that the store stays readable \
                by the gateway.
                """
        )

        /// How long a revocation is kept: until every token it can cover has expired. A fixed
        /// 30 days until the config has a maximum token lifetime.
        static let revocationLifetime = Duration.seconds(30 * 86_400)

        @OptionGroup var options: ConfigOption

        @Option(help: ArgumentHelp("Revoke the token with this jti (token id) claim.", valueName: "id"))
        var jti: String?

        @Option(help: ArgumentHelp("Revoke every token with this sub claim issued until now.", valueName: "subject"))
        var subject: String?

        func validate() throws {
            switch (jti, subject) {
            case (nil, nil): throw ValidationError("Give --jti or --subject.")
            case (.some, .some): throw ValidationError("Give --jti or --subject, not both.")
            case (.some(""), _), (_, .some("")): throw ValidationError("The token id or subject must not be empty.")
            default: break
            }
        }

        func run() async throws {
            let store = try await options.openStore(mustExist: false)
            let now = Date.now
            let kind: Revocation.Kind = jti.map { .tokenID($0) } ?? .subject(subject ?? "")
            let expiresAt = now.adding(Self.revocationLifetime)
            try await store.addRevocation(Revocation(kind: kind, revokedAt: now, expiresAt: expiresAt))
            let reason = jti.map { "jti \($0) revoked by operator" } ?? "every token issued until now revoked by operator"
            try await store.appendAudit([AuditEvent(time: now, type: .tokenRevoked, subject: subject, reason: reason)])
            let what = jti.map { "token \($0)" } ?? "every token of subject \(subject ?? "") issued until now"
            print("revoked \(Console.printable(what)); the revocation is kept until \(Console.timestamp(expiresAt))")
        }
    }
}
