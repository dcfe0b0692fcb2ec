import ArgumentParser
import Foundation
import GatewayCore

extension GatewayCommand.Token {
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a token and show which checks it passes under the current config.",
            discussion: """
                Uses the keys serve uses (each issuer's secret_file or JWT_SECRET_KEY, public_key_file, jwks_file \
                and the copy of its jwks_url saved in the store) and the revocations in the store. Prints the \
                header, the claims and every check; never the signature, a key or the token itself, only its \
                fingerprint as the audit trail shows it. Exits 0 when the gateway would accept the token, 1 otherwise.
                """
        )

        @OptionGroup var options: ConfigOption

        @Argument(
            help: ArgumentHelp("The token, or - to read it from standard input (keeps it out of the shell history).", valueName: "token"))
        var token: String

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        func run() async throws {
            let config = try ConfigCheck.loadConfig(path: options.config)
            let token = try readToken()
            let store = try await StoreSnapshot(config)
            let inspection: TokenInspection
            do {
                inspection = try TokenInspection(
                    token: Substring(token), config: config.jwt, environment: ProcessInfo.processInfo.environment,
                    savedJWKS: store.savedJWKS, revocations: store.revocations, now: Date.now)
            } catch {
                Console.printError("\(config.sourcePath): \(error)")
                throw ExitCode.failure
            }
            let report = TokenInspectionReport(inspection, config: config, store: store, now: Date.now)
            print(json ? try report.json : report.text)
            if !inspection.isAccepted { throw ExitCode.failure }
        }

        private func readToken() throws -> String {
            let text = token == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : token
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw ValidationError("The token is empty.") }
            return trimmed
        }
    }
}

/// What inspecting reads from the store, when `[store] path` exists; inspecting never creates it.
struct StoreSnapshot {
    let path: String
    let revocations: [Revocation]?
    /// The JWKS documents last saved, by URL.
    let savedJWKS: [String: Data]

    init(_ config: GatewayConfig) async throws {
        path = config.store.location
        guard config.store.postgres != nil || FileManager.default.fileExists(atPath: path) else {
            revocations = nil
            savedJWKS = [:]
            return
        }
        let store = try await StoreAccess.open(config)
        do {
            revocations = try await store.revocations()
            var saved: [String: Data] = [:]
            for url in config.jwt.issuers.compactMap(\.jwksURL) {
                saved[url] = try await store.lastGoodJWKS(source: url)?.document
            }
            savedJWKS = saved
        } catch {
            Console.printError("\(path): \(error)")
            throw ExitCode.failure
        }
    }
}
