import NIOCore
import NIOPosix
import Testing

@testable import GatewayCore

@Suite("An upstream's request slots")
struct UpstreamSlotsTests {
    static let loop = MultiThreadedEventLoopGroup.singleton.next()

    @Test("up to the limit at once; a released slot goes to the request that waited longest")
    func queue() async throws {
        let slots = UpstreamSlots(limit: 2, queueTimeout: .seconds(60))
        #expect(slots.acquire(on: Self.loop) == nil)
        #expect(slots.acquire(on: Self.loop) == nil)
        let first = try #require(slots.acquire(on: Self.loop))
        let second = try #require(slots.acquire(on: Self.loop))
        #expect(slots.inUse == 2)
        slots.release()
        try await first.get()
        slots.release()
        try await second.get()
        #expect(slots.inUse == 2)
        slots.release()
        slots.release()
        #expect(slots.inUse == 0)
    }

    @Test("a request that waits past queue_timeout fails, and leaves no claim on a later slot")
    func timeout() async throws {
        let slots = UpstreamSlots(limit: 1, queueTimeout: .milliseconds(10))
        #expect(slots.acquire(on: Self.loop) == nil)
        let turn = try #require(slots.acquire(on: Self.loop))
        await #expect(throws: UpstreamSlots.QueueTimeout.self) { try await turn.get() }
        slots.release()
        #expect(slots.inUse == 0)
        #expect(slots.acquire(on: Self.loop) == nil)
        #expect(slots.inUse == 1)
    }
}

@Suite("The held-body budget")
struct HeldBodyBudgetTests {
    @Test("reserves up to the limit, refuses and counts beyond, and takes releases back")
    func budget() {
        let budget = HeldBodyBudget(limit: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        #expect(budget.heldBytes == 100)
        #expect(budget.refusals == 1)
        budget.release(60)
        #expect(budget.reserve(50))
        budget.setLimit(10)
        #expect(!budget.reserve(1))
        #expect(budget.refusals == 2)
    }
}

@Suite("A request body's clock")
struct BodyClockTests {
    @Test("counts the client's time only: a pause for the upstream does not count, open or closed")
    func pauses() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var clock = BodyClock(now: start)
        #expect(clock.elapsed(at: start + .seconds(2)) == .seconds(2))
        clock.pause(at: start + .seconds(2))
        clock.pause(at: start + .seconds(3))  // already paused: the first moment counts
        #expect(clock.elapsed(at: start + .seconds(5)) == .seconds(2))
        clock.resume(at: start + .seconds(6))
        clock.resume(at: start + .seconds(7))  // not paused: nothing to take off
        #expect(clock.elapsed(at: start + .seconds(8)) == .seconds(4))
    }
}
