import Foundation
import Logging
import Testing

@testable import GatewayCore

@Suite("Metrics exposition and what the logs keep of a request")
struct GatewayMetricsTests {
    static func readings(_ targets: [TargetHealth]) -> GatewayMetrics.Readings {
        GatewayMetrics.Readings(
            openConnections: 3, auditQueueDepth: 2, auditEventsDropped: 5, rateLimitKeys: 7, rateLimitEvictions: 4, targets: targets)
    }

    @Test("mirrored totals are added once, and a target a reload removed loses its series")
    func exposition() {
        let metrics = GatewayMetrics()
        let config = UpstreamConfig(name: "users", targets: [HostPort(host: "10.0.0.1", port: 80), HostPort(host: "10.0.0.2", port: 80)])
        let health = UpstreamHealth(upstreams: [config], logger: Logger(label: "test"))
        health.targets(of: "users")[0].mark(.up)
        var page = String(decoding: metrics.exposition(Self.readings(health.targets)), as: UTF8.self)
        #expect(page.contains(#"gateway_upstream_target_up{upstream="users",target="10.0.0.1:80"} 1"#), "\(page)")
        #expect(page.contains(#"gateway_upstream_target_up{upstream="users",target="10.0.0.2:80"} 0"#))
        #expect(page.contains("gateway_open_connections 3") && page.contains("gateway_rate_limit_keys 7"))
        #expect(page.contains("gateway_audit_events_dropped_total 5") && page.contains("gateway_rate_limit_evictions_total 4"))

        var next = config
        next.targets = [config.targets[0]]
        health.update([next])
        page = String(decoding: metrics.exposition(Self.readings(health.targets)), as: UTF8.self)
        #expect(page.contains(#"target="10.0.0.1:80"} 1"#))
        #expect(!page.contains("10.0.0.2"), "\(page)")
        #expect(page.contains("gateway_audit_events_dropped_total 5"), "a second scrape adds nothing new")
    }

    @Test("each certificate name's earliest expiry is exposed, and a name a reload dropped loses its series")
    func certificateExpiry() {
        let metrics = GatewayMetrics()
        func page(_ certificates: [CertificateInUse]) -> String {
            var readings = Self.readings([])
            readings.listener = "0.0.0.0:443"
            readings.certificates = certificates
            return String(decoding: metrics.exposition(readings), as: UTF8.self)
        }
        let series = #"gateway_tls_certificate_expiry_timestamp_seconds{listener="0.0.0.0:443",name="#
        var text = page([
            CertificateInUse(name: "api.example.com", notValidAfter: Date(timeIntervalSince1970: 2_000_000_000)),
            CertificateInUse(name: "api.example.com", notValidAfter: Date(timeIntervalSince1970: 1_900_000_000)),
            CertificateInUse(name: "old.example.com", notValidAfter: Date(timeIntervalSince1970: 1_800_000_000)),
        ])
        #expect(text.contains(series + #""api.example.com"} 1900000000"#), "\(text)")
        #expect(text.contains(series + #""old.example.com"} 1800000000"#))
        text = page([CertificateInUse(name: "api.example.com", notValidAfter: Date(timeIntervalSince1970: 2_100_000_000))])
        #expect(text.contains(series + #""api.example.com"} 2100000000"#), "\(text)")
        #expect(!text.contains("old.example.com"), "\(text)")
    }

    @Test(
        "logs keep a path without its query, and nothing of a target that is not a path",
        arguments: [
            ("/users/42?token=secret", "/users/42"),
            ("http://user:pass@example.com/x", "-"),
            ("*", "-"),
        ])
    func auditedPath(uri: String, kept: String) {
        #expect(ProxyHandler.auditedPath(uri) == kept)
    }
}
