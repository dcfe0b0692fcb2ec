import Foundation
import Testing

/// The README's walkthrough, run as written with curl against the demo: the real gateway binary
/// under `gateway.conf.example` (ports, certificates and state moved into a temporary directory)
/// in front of the real userservice. Every status and problem code the README states must hold.
@Suite("README walkthrough")
struct ReadmeWalkthroughTests {
    /// One shell command of a README block and what its trailing comment says it answers.
    struct Step {
        let command: String
        let comment: String

        /// The status the comment states, or `nil` when it states none (then any 2xx will do).
        var status: Int? {
            comment.firstMatch(of: /^\d{3}\b/).map { Int($0.output)! }
        }

        /// Problem codes (`path_rejected`) and response headers (`Allow: GET`) the comment names.
        var mentions: [String] {
            let codes = comment.matches(of: /\b[a-z]+(?:_[a-z]+)+\b/).map { String($0.output) }
            let headers = comment.matches(of: /\b[A-Z][A-Za-z-]+: [A-Za-z]+/).map { String($0.output) }
            let json = comment.hasPrefix("{") && !comment.contains("...") ? [comment] : []
            return codes + headers + json
        }
    }

    /// The commands of the fenced `sh` blocks that follow `### Walkthrough`, up to the next heading,
    /// that talk to the gateway or set what those use (`alias gw=…`, `G=…`, `TOKEN=$(gw …)`).
    static func walkthrough() throws -> [Step] {
        let readme = try String(contentsOfFile: Fixtures.repositoryRoot + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "### Walkthrough"))
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        var steps: [Step] = []
        var inBlock = false
        var pending = ""
        for line in section[..<end].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            guard inBlock, !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast() + " "
                continue
            }
            var text = pending + line
            pending = ""
            var comment = ""
            if let mark = text.range(of: " # ") {
                comment = text[mark.upperBound...].trimmingCharacters(in: .whitespaces)
                text = String(text[..<mark.lowerBound])
            }
            let command = text.trimmingCharacters(in: .whitespaces)
            // What talks to the gateway, and the shell state it needs; not the userservice's own CLI.
            guard command.hasPrefix("gw ") || command.hasPrefix("alias gw=") || command.firstMatch(of: /^[A-Z]+=/) != nil else {
                continue
            }
            steps.append(Step(command: command, comment: comment))
        }
        return steps
    }

    /// `gateway.conf.example` as the demo runs it, with what is machine-specific moved to `directory`.
    static func demoConfig(in directory: URL, userServicePort: Int) throws -> String {
        let secret = directory.appendingPathComponent("jwt-secret").path
        try Fixtures.jwtSecret.write(toFile: secret, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret)
        var text = try String(contentsOfFile: Fixtures.repositoryRoot + "/gateway.conf.example", encoding: .utf8)
        let replacements = [
            #"listen = "127.0.0.1:8443""#: #"listen = "127.0.0.1:0""#,
            #""certs/dev/server.crt""#: "\"\(Fixtures.serverCertificate)\"",
            #""certs/dev/server.key""#: "\"\(Fixtures.serverKey)\"",
            #""state/jwt-secret""#: "\"\(secret)\"",
            #""state/gateway.sqlite""#: "\"\(directory.appendingPathComponent("gateway.sqlite").path)\"",
            #""http://127.0.0.1:8081""#: "\"http://127.0.0.1:\(userServicePort)\"",
            #""schemas/"#: "\"\(Fixtures.repositoryRoot)/schemas/",
        ]
        for (demo, test) in replacements {
            #expect(text.contains(demo), "gateway.conf.example no longer holds \(demo)")
            text = text.replacingOccurrences(of: demo, with: test)
        }
        let path = directory.appendingPathComponent("gateway.conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("every command of the walkthrough answers what the README says")
    func walkthroughHolds() async throws {
        let steps = try Self.walkthrough()
        #expect(steps.contains { $0.command.contains("%2e%2e") }, "the walkthrough shows a refused path")
        #expect(steps.filter { $0.command.hasPrefix("gw ") }.count >= 15, "every gw line of the walkthrough is read")
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try await UserServiceHarness.with { userServicePort in
            let gateway = try await GatewayProcess.start(configPath: try Self.demoConfig(in: directory, userServicePort: userServicePort))
            let outputs: [(status: Int?, body: String)]
            do {
                outputs = try await Self.run(steps, port: gateway.port, in: directory)
            } catch {
                _ = await gateway.terminate()
                throw error
            }
            _ = await gateway.terminate()
            // What went wrong on the gateway's side, should a step fail.
            let warnings = gateway.log.split(separator: "\n").filter { $0.contains("warning") || $0.contains("error") }.joined(
                separator: "\n")
            for (step, output) in zip(steps, outputs) where step.command.hasPrefix("gw ") || step.command.contains("$(gw ") {
                let context = Comment(rawValue: "\(step.command)\n→ \(output.body)\ngateway warnings:\n\(warnings)")
                let status = try #require(output.status, context)
                if let expected = step.status {
                    #expect(status == expected, context)
                } else {
                    #expect((200..<300).contains(status), context)
                }
                for mention in step.mentions {
                    #expect(output.body.localizedCaseInsensitiveContains(mention), "\(mention) missing: \(context.rawValue)")
                }
            }
        }
    }

    /// Runs `steps` in one bash, as a reader pastes them, each status reported on standard error.
    static func run(_ steps: [Step], port: Int, in directory: URL) async throws -> [(status: Int?, body: String)] {
        var script = """
            set -u
            shopt -s expand_aliases
            cd '\(Fixtures.repositoryRoot)'

            """
        for (index, step) in steps.enumerated() {
            let command = step.command
                .replacingOccurrences(of: "certs/dev/ca.crt", with: Fixtures.caCertificate)
                .replacingOccurrences(of: "https://127.0.0.1:8443", with: "https://127.0.0.1:\(port)")
                .replacingOccurrences(of: "alias gw='curl -sS", with: "alias gw='curl -sS -w \"%{stderr}@@status %{http_code}\\n\"")
            script += "echo '@@step \(index)'; echo '@@step \(index)' >&2\n\(command)\necho\n"
        }
        let scriptPath = directory.appendingPathComponent("walkthrough.sh").path
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let errors = directory.appendingPathComponent("walkthrough.err").path
        let (_, output) = try await runProcess("/bin/bash", ["-c", "bash '\(scriptPath)' 2>'\(errors)'"])
        let statuses = try String(contentsOfFile: errors, encoding: .utf8)
        return steps.indices.map { index in
            (
                status: section(index, of: statuses).firstMatch(of: /@@status (\d{3})/).map { Int($0.1)! },
                body: section(index, of: output)
            )
        }
    }

    /// What step `index` printed: the text between its marker and the next.
    static func section(_ index: Int, of text: String) -> String {
        guard let start = text.range(of: "@@step \(index)\n") else { return "" }
        let rest = text[start.upperBound...]
        return String(rest[..<(rest.range(of: "@@step \(index + 1)\n")?.lowerBound ?? rest.endIndex)])
    }
}
