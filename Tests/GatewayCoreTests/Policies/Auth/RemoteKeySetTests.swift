import NIOHTTP1
import Testing

@testable import GatewayCore

@Suite("JWKS URL schedule")
struct RemoteKeySetTests {
    @Test("a failed fetch is retried after 5 s, doubling per failure up to 5 min and never beyond the refresh interval")
    func backoff() {
        let delays = (1...8).map { RemoteKeySet.backoff(afterFailures: $0, refreshInterval: .seconds(600)) }
        #expect(delays == [5, 10, 20, 40, 80, 160, 300, 300].map { Duration.seconds($0) })
        #expect(RemoteKeySet.backoff(afterFailures: 6, refreshInterval: .seconds(60)) == .seconds(60))
        #expect(RemoteKeySet.backoff(afterFailures: 10_000, refreshInterval: .seconds(600)) == .seconds(300))
    }

    @Test("Cache-Control max-age sets the refresh, clamped to 1m..24h")
    func maxAge() {
        #expect(RemoteKeySet.maxAge(["Cache-Control": "public, max-age=120"]) == .seconds(120))
        #expect(RemoteKeySet.maxAge(["Cache-Control": "max-age=5"]) == .seconds(60))
        #expect(RemoteKeySet.maxAge(["Cache-Control": "max-age=999999"]) == .seconds(86_400))
        #expect(RemoteKeySet.maxAge(["Cache-Control": "no-store"]) == nil)
    }
}
