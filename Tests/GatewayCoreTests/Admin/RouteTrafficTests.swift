import Foundation
import Testing

@testable import GatewayCore

@Suite("Status page traffic")
struct RouteTrafficTests {
    static func page(_ ok: Int, _ failed: Int) -> String {
        """
        # TYPE gateway_requests_total counter
        gateway_requests_total{route="/api",status="200"} \(ok)
        gateway_requests_total{route="/api",status="502"} \(failed)
        gateway_requests_total{route="/api",status="aborted"} 1
        gateway_requests_total{route="none",status="404"} 3
        gateway_request_duration_seconds_count{route="/api"} 9
        """
    }

    @Test("counts every answer of a route, the 5xx apart, from the exposition")
    func counts() {
        let counts = RouteTraffic.counts(in: Self.page(10, 2))
        #expect(counts["/api"]?.total == 13 && counts["/api"]?.errors == 2)
        #expect(counts["none"]?.total == 3 && counts["none"]?.errors == 0)
        #expect(counts.count == 2)
    }

    @Test("rates are the change from the oldest sample to the page's own reading, over the seconds between them")
    func rates() {
        let traffic = RouteTraffic()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let later = start.addingTimeInterval(10)
        #expect(traffic.rates(upTo: Self.page(40, 12), at: later).isEmpty, "no rate from no sample")
        traffic.sample(Self.page(10, 2), at: start)
        let rates = traffic.rates(upTo: Self.page(40, 12), at: later)
        #expect(rates["/api"] == RouteTraffic.Rate(perSecond: 4, errorRatio: 0.25))
        #expect(rates["none"] == RouteTraffic.Rate(perSecond: 0, errorRatio: nil))
        #expect(traffic.rates(upTo: Self.page(70, 12), at: later)["/api"]?.perSecond == 7, "reading adds no sample")
    }

    @Test("samples older than the window are dropped but the one that opens it")
    func window() {
        let traffic = RouteTraffic()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for minute in 0...10 { traffic.sample(Self.page(minute * 60, 0), at: start.addingTimeInterval(Double(minute) * 60)) }
        // 10 minutes of 1 request a second; the window is 5 minutes, opened by the sample at minute 5.
        #expect(traffic.rates(upTo: Self.page(600, 0), at: start.addingTimeInterval(600))["/api"]?.perSecond == 1)
    }

    @Test("operators' actions and upstream failures are not security events; refusals are")
    func securityEvents() {
        #expect(AuditEventType.rateLimited.isSecurityEvent && AuditEventType.authMissing.isSecurityEvent)
        #expect(AuditEventType.loginLocked.isSecurityEvent)
        #expect(!AuditEventType.configReloaded.isSecurityEvent && !AuditEventType.upstreamError.isSecurityEvent)
        #expect(!AuditEventType.rateLimitReset.isSecurityEvent)
    }
}
