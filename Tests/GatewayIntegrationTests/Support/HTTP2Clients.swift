import Foundation

/// An answer as curl saw it: the HTTP version it spoke, the status, the header fields (names
/// lower-cased) and the body.
struct CurlAnswer {
    let version: String
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> [String] { headers.filter { $0.0 == name }.map(\.1) }
}

/// The real curl (built with nghttp2) against a gateway, over HTTP/2 or HTTP/1.1.
enum Curl {
    static func send(
        port: Int, http2: Bool, method: String = "GET", path: String, headers: [String] = [], body: String? = nil
    ) async throws -> CurlAnswer {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let headerFile = directory.appendingPathComponent("headers").path
        let bodyFile = directory.appendingPathComponent("body").path
        var arguments = [
            "-sS", "--cacert", Fixtures.caCertificate, http2 ? "--http2" : "--http1.1", "-X", method, "-D", headerFile, "-o", bodyFile,
            "-w", "%{http_version}", "--max-time", "30", "--path-as-is",
        ]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["--data-binary", body] }
        arguments.append("https://localhost:\(port)\(path)")
        let (status, output) = try await runProcess("/usr/bin/curl", arguments)
        guard status == 0 else { throw CurlFailure(output: output) }
        let headerText = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
        var lines = headerText.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let fields = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return CurlAnswer(
            version: output.trimmingCharacters(in: .whitespacesAndNewlines),
            status: Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0,
            headers: fields, body: (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? "")
    }
}

struct CurlFailure: Error, CustomStringConvertible {
    let output: String
    var description: String { "curl failed: \(output)" }
}

/// `Fixtures/h2-hostile-client.py`: raw HTTP/2 frames that break the rules (see its docstring),
/// run with Debian's python3 (python3-h2).
enum HostileHTTP2Client {
    /// What the server did, as the script reports it.
    struct Outcome {
        let fields: [String: Any]

        var status: Int? { fields["status"] as? Int }
        var reset: Int? { fields["reset"] as? Int }
        var goAway: Int? { fields["goaway"] as? Int }
        var closed: Bool { fields["closed"] as? Bool ?? false }
        var body: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data((fields["body"] as? String ?? "").utf8))) as? [String: Any] ?? [:]
        }
        var seconds: Double { fields["seconds"] as? Double ?? 0 }
    }

    /// HTTP/2 error codes (RFC 9113 §7).
    static let protocolError = 0x1
    static let cancel = 0x8
    static let compressionError = 0x9
    static let enhanceYourCalm = 0xB

    static func run(port: Int, _ arguments: String...) async throws -> Outcome {
        let script = Fixtures.path("h2-hostile-client.py")
        let (status, output) = try await runProcess("/usr/bin/python3", [script, String(port), Fixtures.caCertificate] + arguments)
        let line = output.split(separator: "\n").last.map(String.init) ?? ""
        guard status == 0, let fields = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw CurlFailure(output: "h2-hostile-client.py \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
        return Outcome(fields: fields)
    }
}
