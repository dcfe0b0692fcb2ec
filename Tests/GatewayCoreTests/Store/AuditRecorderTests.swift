import Foundation
import GatewayCore
import GatewayTestSupport
import Logging
import ServiceLifecycle
import Testing

@Suite("Audit recorder")
struct AuditRecorderTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `recorder` in a service group for the duration of `body`, then shuts it down gracefully.
    func withRunning(_ recorder: AuditRecorder, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(services: [recorder], logger: logger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("queued events are committed in batches of at most the batch size")
    func batches() async throws {
        let store = try ControlledStore()
        let recorder = AuditRecorder(store: store, configuration: .init(batchSize: 500), logger: logger)
        try await withRunning(recorder) {
            for event in StoreFixture.events(1_200) { recorder.record(event) }
            await recorder.flush()
            let stored = try await store.storedEventCount
            #expect(stored == 1_200)
            #expect(recorder.queueDepth == 0)
        }
        #expect(store.appendedBatchSizes.allSatisfy { $0 <= 500 })
        #expect(store.appendedBatchSizes.reduce(0, +) == 1_200)
        #expect(try await store.verifyAuditChain() == .intact(events: 1_200))
    }

    @Test("a few events are written at the next tick without anyone flushing")
    func tick() async throws {
        let store = try ControlledStore()
        let recorder = AuditRecorder(store: store, configuration: .init(flushInterval: .milliseconds(20)), logger: logger)
        try await withRunning(recorder) {
            for event in StoreFixture.events(3) { recorder.record(event) }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await store.storedEventCount < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let stored = try await store.storedEventCount
            #expect(stored == 3)
        }
    }

    @Test("graceful shutdown drains every queued event before run returns")
    func shutdownDrains() async throws {
        let store = try ControlledStore(appendDelay: .milliseconds(20))
        let recorder = AuditRecorder(store: store, configuration: .init(flushInterval: .seconds(3600)), logger: logger)
        try await withRunning(recorder) {
            for event in StoreFixture.events(5_000) { recorder.record(event) }
        }
        #expect(try await store.storedEventCount == 5_000)
        #expect(recorder.droppedEvents == 0)
        #expect(recorder.queueDepth == 0)
    }

    @Test("cancellation drains every queued event too")
    func cancellationDrains() async throws {
        let store = try ControlledStore(appendDelay: .milliseconds(20))
        let recorder = AuditRecorder(store: store, configuration: .init(flushInterval: .seconds(3600)), logger: logger)
        let run = Task { await recorder.run() }
        for event in StoreFixture.events(2_000) { recorder.record(event) }
        run.cancel()
        await run.value
        #expect(try await store.storedEventCount == 2_000)
        #expect(recorder.droppedEvents == 0)
    }

    @Test("with drop, events beyond the capacity are counted and dropped")
    func overflowDrops() async throws {
        let recorder = AuditRecorder(store: try ControlledStore(), configuration: .init(capacity: 100), logger: logger)
        for event in StoreFixture.events(150) { recorder.record(event) }
        #expect(recorder.queueDepth == 100)
        #expect(recorder.droppedEvents == 50)
    }

    @Test("with block, the queue grows to twice its capacity before dropping")
    func overflowBlocks() async throws {
        let configuration = AuditRecorder.Configuration(capacity: 100, overflow: .block)
        let recorder = AuditRecorder(store: try ControlledStore(), configuration: configuration, logger: logger)
        for event in StoreFixture.events(250) { recorder.record(event) }
        #expect(recorder.queueDepth == 200)
        #expect(recorder.droppedEvents == 50)
    }

    @Test("record never waits for a slow store")
    func recordNeverWaits() async throws {
        let store = try ControlledStore()
        // One big batch, so that draining at the end takes one append rather than twenty.
        let recorder = AuditRecorder(store: store, configuration: .init(batchSize: 10_000), logger: logger)
        let events = StoreFixture.events(10_000)
        store.holdAppends(true)
        try await withRunning(recorder) {
            recorder.record(events[0])
            while store.appendsStarted < 1 { try await Task.sleep(for: .milliseconds(5)) }
            // The writer is stuck in the store's append until released: a record() that waited for
            // it would never return, whatever the machine's speed.
            for event in events.dropFirst() { recorder.record(event) }
            #expect(store.appendsStarted == 1 && store.appendedBatchSizes.isEmpty, "all recorded while the first append is held")
            store.holdAppends(false)
        }
        #expect(try await store.storedEventCount == 10_000)
        #expect(recorder.droppedEvents == 0)
    }

    @Test("a failed write is retried on the next tick without losing its events")
    func retriesFailedWrites() async throws {
        let store = try ControlledStore(failingAppends: 3)
        let recorder = AuditRecorder(store: store, configuration: .init(flushInterval: .milliseconds(10)), logger: logger)
        try await withRunning(recorder) {
            for event in StoreFixture.events(700) { recorder.record(event) }
            await recorder.flush()
        }
        #expect(try await store.storedEventCount == 700)
        #expect(recorder.droppedEvents == 0)
        #expect(try await store.verifyAuditChain() == .intact(events: 700))
    }

    @Test("while the store keeps failing, the queue stays bounded and new events are dropped")
    func boundedWhileFailing() async throws {
        let store = try ControlledStore(failingAppends: .max)
        let configuration = AuditRecorder.Configuration(capacity: 100, flushInterval: .milliseconds(5))
        let recorder = AuditRecorder(store: store, configuration: configuration, logger: logger)
        try await withRunning(recorder) {
            for event in StoreFixture.events(80) { recorder.record(event) }
            try await Task.sleep(for: .milliseconds(50))
            for event in StoreFixture.events(80) { recorder.record(event) }
            #expect(recorder.queueDepth == 100)
            #expect(recorder.droppedEvents == 60)
        }
        #expect(recorder.droppedEvents == 160)
        #expect(recorder.queueDepth == 0)
    }

    @Test("after it has stopped, the recorder drops what it is given")
    func droppedAfterStop() async throws {
        let recorder = AuditRecorder(store: try ControlledStore(), logger: logger)
        try await withRunning(recorder) {}
        recorder.record(StoreFixture.event())
        #expect(recorder.droppedEvents == 1)
        await recorder.flush()
    }
}
