import AsyncHTTPClient
import Foundation
import Testing

/// `monitoring/gateway-alerts.yml`: promtool loads the rules and runs each alert's unit test, and
/// every metric a rule names is one the real binary exports.
@Suite("Alert rules", .timeLimit(.minutes(2)))
struct MonitoringTests {
    static let rules = Fixtures.repositoryRoot + "/monitoring/gateway-alerts.yml"
    static let ruleTests = Fixtures.repositoryRoot + "/monitoring/gateway-alerts.test.yml"

    /// The names after `- alert:` in the rules file.
    static func alertNames() throws -> [String] {
        try String(contentsOfFile: rules, encoding: .utf8).split(separator: "\n").compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            return text.hasPrefix("- alert: ") ? String(text.dropFirst("- alert: ".count)) : nil
        }
    }

    /// Every `gateway_…` metric name in `text`, a histogram's `_bucket`, `_sum` and `_count` series
    /// named by the histogram.
    static func metricNames(in text: String) -> Set<String> {
        let pattern = /gateway_[a-z0-9_]+/
        return Set(
            text.matches(of: pattern).map { match in
                let name = String(match.output)
                for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
                return name
            })
    }

    @Test("promtool loads the rules, and each alert's test fires it and leaves the series that must not fire")
    func promtool() async throws {
        let check = try await runProcess("/usr/bin/promtool", ["check", "rules", Self.rules])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("SUCCESS: \(try Self.alertNames().count) rules found"), "\(check.output)")
        let test = try await runProcess("/usr/bin/promtool", ["test", "rules", Self.ruleTests])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("SUCCESS"), "\(test.output)")
        let tests = try String(contentsOfFile: Self.ruleTests, encoding: .utf8)
        for alert in try Self.alertNames() {
            #expect(tests.contains("alertname: \(alert)\n"), "\(alert) has no unit test")
        }
    }

    @Test("every metric a rule names is on the live /metrics of the real binary, the certificate's expiry with it")
    func metricNamesExist() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port,
                upstream: ObservabilityTests.checkedTargets([upstream.port]),
                routes: ObservabilityTests.routes, extra: "[admin]\nlisten = \"127.0.0.1:0\"")
            let gateway = try await GatewayProcess.start(configPath: config)
            let admin = "http://127.0.0.1:\(try await gateway.adminPort())"
            try await AuditShutdownTests.withClient { client in
                #expect(try await ObservabilityTests.get("https://localhost:\(gateway.port)/echo", client: client).status == 200)
                let target = #"gateway_upstream_target_up{upstream="test",target="127.0.0.1:\#(upstream.port)"}"#
                let page = try await ObservabilityTests.metrics(admin, until: target, is: 1, client: client)
                let exported = Set(
                    page.split(separator: "\n").compactMap { line -> String? in
                        let fields = line.split(separator: " ")
                        return fields.count == 4 && fields[0] == "#" && fields[1] == "TYPE" ? String(fields[2]) : nil
                    })
                let named = Self.metricNames(in: try String(contentsOfFile: Self.rules, encoding: .utf8))
                #expect(named.count >= 10, "\(named)")
                #expect(named.subtracting(exported).isEmpty, "not exported: \(named.subtracting(exported).sorted())")

                let expiry = try #require(
                    page.split(separator: "\n").first { $0.hasPrefix("gateway_tls_certificate_expiry_timestamp_seconds{") },
                    "\(page)")
                #expect(expiry.contains(#"name="localhost""#), "\(expiry)")
                let seconds = try #require(Double(expiry.split(separator: " ").last!))
                let notAfter = try await runProcess(
                    "/usr/bin/openssl", ["x509", "-in", Fixtures.serverCertificate, "-noout", "-enddate", "-dateopt", "iso_8601"]
                ).output.trimmingCharacters(in: .whitespacesAndNewlines)
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "GMT")
                formatter.dateFormat = "'notAfter='yyyy-MM-dd HH:mm:ss'Z'"
                let expected = try #require(formatter.date(from: notAfter), "\(notAfter)")
                #expect(seconds == expected.timeIntervalSince1970, "\(expiry) vs \(notAfter)")
            }
            #expect(await gateway.terminate() == .success)
        }
    }
}
