import Testing

@testable import GatewayCore

/// What the configuration needs in file descriptors, and the `max_connections` that fits.
@Suite("Descriptor budget")
struct DescriptorBudgetTests {
    @Test("needs two descriptors per client connection, the admin cap, idle pools and the reserve")
    func need() {
        let budget = DescriptorBudget(limit: 1_048_576, maxConnections: 10_000, adminMaxConnections: 64, idleUpstreamConnections: 64)
        #expect(budget.needed == 20_000 + 64 + 64 + DescriptorBudget.reserve)
        #expect(budget.maxConnections == 10_000)
        #expect(!budget.lowersMaxConnections)
    }

    @Test("lowers max_connections until the need fits a smaller limit")
    func lowered() {
        let budget = DescriptorBudget(limit: 4_096, maxConnections: 10_000, adminMaxConnections: 64, idleUpstreamConnections: 64)
        #expect(budget.lowersMaxConnections)
        #expect(budget.maxConnections == (4_096 - 64 - 64 - DescriptorBudget.reserve) / 2)
        let lowered = DescriptorBudget(
            limit: 4_096, maxConnections: budget.maxConnections, adminMaxConnections: 64, idleUpstreamConnections: 64)
        #expect(lowered.needed <= 4_096)
        #expect(!lowered.lowersMaxConnections)
    }

    @Test("a limit exactly at the need keeps max_connections")
    func exact() {
        let need = 2 * 500 + 10 + DescriptorBudget.reserve
        let budget = DescriptorBudget(limit: need, maxConnections: 500, adminMaxConnections: 10, idleUpstreamConnections: 0)
        #expect(budget.maxConnections == 500)
        #expect(
            DescriptorBudget(limit: need - 1, maxConnections: 500, adminMaxConnections: 10, idleUpstreamConnections: 0).maxConnections
                == 499)
    }

    @Test("keeps at least one connection under a limit below the reserve, and never overflows")
    func extremes() {
        #expect(DescriptorBudget(limit: 100, maxConnections: 10, adminMaxConnections: 64, idleUpstreamConnections: 0).maxConnections == 1)
        let huge = DescriptorBudget(limit: Int.max, maxConnections: Int.max, adminMaxConnections: 64, idleUpstreamConnections: 0)
        #expect(huge.needed == Int.max)
        #expect(huge.maxConnections == Int.max)
    }

    @Test("counts the admin cap only with an admin listener, and idle pools per event loop")
    func fromConfig() throws {
        var config = try ConfigFixture.config("")
        config.server.maxConnections = 100
        let without = DescriptorBudget(limit: 1 << 20, config: config, eventLoops: 4)
        config.admin.listen = HostPort(host: "127.0.0.1", port: 9901)
        let with = DescriptorBudget(limit: 1 << 20, config: config, eventLoops: 4)
        #expect(with.needed - without.needed == config.admin.maxConnections)
        let idle = config.upstreams.reduce(0) { $0 + $1.targets.count * $1.maxIdleConnections } * 4
        #expect(without.needed == 200 + idle + DescriptorBudget.reserve)
    }
}
