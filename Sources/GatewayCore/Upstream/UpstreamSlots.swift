import NIOCore
import Synchronization

/// The request slots of one upstream, shared by every event loop: at most `max_connections`
/// requests hold an upstream connection at once. A request beyond waits in line for
/// `queue_timeout`, then is refused (503 `upstream_busy`).
///
/// A slot is taken when the request needs its connection (once a held body is whole) and given
/// back when the exchange ends, so a slow client on a buffering route never holds one.
final class UpstreamSlots: Sendable {
    private struct Waiter {
        let id: Int
        let promise: EventLoopPromise<Void>
    }

    private struct State {
        var inUse = 0
        var waiters = CircularBuffer<Waiter>()
        var nextWaiter = 0
    }

    /// Why a request got no slot.
    struct QueueTimeout: Error {}

    let limit: Int
    private let queueTimeout: TimeAmount
    private let state = Mutex(State())

    init(limit: Int, queueTimeout: Duration) {
        self.limit = limit
        self.queueTimeout = TimeAmount(queueTimeout)
    }

    /// Requests holding a slot right now.
    var inUse: Int { state.withLock { $0.inUse } }

    /// Takes a slot, which the caller must ``release()``: `nil` when one was free, else a future
    /// that succeeds once one comes free, or fails with ``QueueTimeout`` after `queue_timeout`.
    func acquire(on loop: any EventLoop) -> EventLoopFuture<Void>? {
        let queued: Waiter? = state.withLock { state in
            if state.inUse < limit {
                state.inUse += 1
                return nil
            }
            state.nextWaiter += 1
            let waiter = Waiter(id: state.nextWaiter, promise: loop.makePromise())
            state.waiters.append(waiter)
            return waiter
        }
        guard let queued else { return nil }
        let timeout = loop.scheduleTask(in: queueTimeout) { [self] in
            let stillWaiting = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == queued.id }) else { return false }
                state.waiters.remove(at: index)
                return true
            }
            if stillWaiting { queued.promise.fail(QueueTimeout()) }
        }
        queued.promise.futureResult.whenSuccess { timeout.cancel() }
        return queued.promise.futureResult
    }

    /// Gives a slot back: to the request that has waited longest, if any.
    func release() {
        let next: Waiter? = state.withLock { state in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.inUse -= 1
            return nil
        }
        next?.promise.succeed()
    }
}
