import Logging
import NIOPosix
import Testing

@testable import GatewayCore

@Suite("Upstream targets taken in turn")
struct UpstreamBalancerTests {
    static let config = UpstreamConfig(
        name: "users",
        targets: [HostPort(host: "10.0.0.1", port: 1), HostPort(host: "10.0.0.2", port: 1), HostPort(host: "10.0.0.3", port: 1)])

    static func balancer() -> (UpstreamBalancer, [TargetHealth]) {
        let health = UpstreamHealth(upstreams: [config], logger: .init(label: "test"))
        let targets = health.targets(of: "users")
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        return (
            UpstreamBalancer(
                config: config, targets: targets, slots: UpstreamSlots(limit: 10, queueTimeout: .seconds(1)), eventLoop: loop), targets
        )
    }

    @Test("round-robin over every target while none is known to be down")
    func roundRobin() {
        let (balancer, _) = Self.balancer()
        let picked = (0..<6).map { _ in balancer.pick()!.health.address.host }
        #expect(picked == ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.3"])
    }

    @Test("skips targets that are down, and those already tried; none left is nil")
    func skipsDown() {
        let (balancer, targets) = Self.balancer()
        targets[1].mark(.down, failure: "connect failed")
        let picked = (0..<4).map { _ in balancer.pick()!.health.address.host }
        #expect(picked == ["10.0.0.1", "10.0.0.3", "10.0.0.1", "10.0.0.3"])
        let first = balancer.pick()!
        let second = balancer.pick(excluding: [first])!
        #expect(second !== first && second.health.address.host != "10.0.0.2")
        #expect(balancer.pick(excluding: [first, second]) == nil)
        targets[0].mark(.down)
        targets[2].mark(.down)
        #expect(balancer.pick() == nil)
    }

    @Test("a reload keeps the state of targets it keeps")
    func reloadKeepsState() {
        let health = UpstreamHealth(upstreams: [Self.config], logger: .init(label: "test"))
        health.targets(of: "users")[0].mark(.down, failure: "refused")
        var next = Self.config
        next.targets = [Self.config.targets[0], HostPort(host: "10.0.0.9", port: 1)]
        health.update([next])
        #expect(health.targets(of: "users").map(\.current) == [.down, .unchecked])
        #expect(health.problems() == ["upstream users: no healthy target: 10.0.0.1:1 down (refused); 10.0.0.9:1 not probed yet"])
    }
}
