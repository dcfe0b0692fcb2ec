import Foundation
import Logging
import Testing

@testable import GatewayCore

@Suite("Certificate expiry warnings")
struct CertificateExpiryWatchTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("warns of each certificate within 14 days of its expiry, expired ones included, and of no other")
    func warnsWithinFourteenDays() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let day: TimeInterval = 86_400
        func certificates(_ days: [TimeInterval]) -> [CertificateInUse] {
            days.map { CertificateInUse(name: "api.example.com", notValidAfter: now.addingTimeInterval($0 * day)) }
        }
        #expect(CertificateExpiryWatch.check(certificates([90, 14.01, 30]), now: now, logger: logger) == 0)
        #expect(CertificateExpiryWatch.check(certificates([13.99, 90, 1, -1]), now: now, logger: logger) == 3)
        #expect(CertificateExpiryWatch.check([], now: now, logger: logger) == 0)
    }
}
