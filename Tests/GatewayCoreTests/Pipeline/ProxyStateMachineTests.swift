import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

/// The proxy's decisions without sockets: each test feeds events and checks the actions.
@Suite("Proxy state machine")
struct ProxyStateMachineTests {
    typealias Machine = ProxyStateMachine

    static let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/r")
    static let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/r")
    static let ok = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])

    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// Holds a machine, so that `#expect` (which cannot capture a mutable value) can drive it.
    final class Driver {
        var m = Machine()
    }

    /// A machine forwarding `head`, with the number of its exchange.
    static func forwarding(
        _ head: HTTPRequestHead = get, keepAlive: Bool = true, maxBody: Int64 = 1_000, held: Int? = nil
    ) -> (Driver, Int) {
        let driver = Driver()
        let action = driver.m.admitted(upstreamHead: head, keepAlive: keepAlive, maxBodyBytes: maxBody, heldBodyLimit: held)
        #expect(action == (held == nil ? .connect(allowReuse: true) : .none))
        return (driver, driver.m.exchangeNumber!)
    }

    @Test("a streamed request: parts wait for the connection, then flow; the end of the answer readies the next request")
    func streamed() {
        let (machine, number) = Self.forwarding(Self.post)
        #expect(machine.m.requestBody(Self.bytes("ab")) == .none)
        #expect(
            machine.m.connected(exchange: number, reused: false)
                == .attach(parts: [.head(Self.post), .body(.byteBuffer(Self.bytes("ab")))], armTimeout: false))
        #expect(machine.m.requestBody(Self.bytes("cd")) == .sendUpstream(.body(.byteBuffer(Self.bytes("cd")))))
        #expect(machine.m.requestEnd() == .endRequest(armTimeout: true))
        #expect(machine.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true) == .writeResponseHead(connection: .none))
        #expect(machine.m.upstreamBody(Self.bytes("hi")) == .writeResponseBody(Self.bytes("hi")))
        #expect(machine.m.receivedBodyBytes == 4)
        #expect(machine.m.upstreamEnd() == .finish(keepUpstream: true, closeClient: false))
        #expect(machine.m.isIdle)
        #expect(
            machine.m.admitted(upstreamHead: Self.get, keepAlive: true, maxBodyBytes: 10, heldBodyLimit: nil) == .connect(allowReuse: true))
        #expect(machine.m.exchangeNumber == number + 1)
    }

    @Test("a request complete before its connection is sent whole on it, and starts the response timeout")
    func completeBeforeConnection() {
        let (machine, number) = Self.forwarding()
        #expect(machine.m.requestEnd() == .none)
        #expect(machine.m.connected(exchange: number, reused: false) == .attach(parts: [.head(Self.get), .end(nil)], armTimeout: true))
    }

    @Test("a held body is checked whole, then connects and goes upstream with its end")
    func heldBody() {
        let (machine, number) = Self.forwarding(Self.post, held: 10)
        #expect(machine.m.requestBody(Self.bytes("{\"a\"")) == .none)
        #expect(machine.m.requestBody(Self.bytes(":1}")) == .none)
        #expect(machine.m.requestEnd() == .checkHeldBody(Self.bytes("{\"a\":1}")))
        #expect(machine.m.heldBodyChecked(refusal: nil) == .connect(allowReuse: true))
        #expect(
            machine.m.connected(exchange: number, reused: true)
                == .attach(parts: [.head(Self.post), .body(.byteBuffer(Self.bytes("{\"a\":1}"))), .end(nil)], armTimeout: true))
    }

    @Test("a held body the policies refuse is answered, and the connection kept for the next request")
    func heldBodyRefused() {
        let (machine, _) = Self.forwarding(Self.post, held: 10)
        _ = machine.m.requestEnd()
        let refusal = GatewayProblem.badRequest("invalid_json", "no")
        #expect(machine.m.heldBodyChecked(refusal: refusal) == .fail(refusal, answer: true))
        #expect(machine.m.bodyPending == false)
        #expect(machine.m.answering(closing: false, bodyPending: false) == false)
        #expect(machine.m.isIdle)
    }

    @Test("a body over the held limit or the route's limit is 413, and the rest of it is dropped before the close")
    func bodyTooLarge() {
        let (held, _) = Self.forwarding(Self.post, held: 4)
        #expect(held.m.requestBody(Self.bytes("12345")) == .fail(.bodyTooLarge, answer: true))
        let (streamed, _) = Self.forwarding(Self.post, maxBody: 3)
        #expect(streamed.m.requestBody(Self.bytes("1234")) == .fail(.bodyTooLarge, answer: true))
        #expect(streamed.m.bodyPending)
        let closes = streamed.m.answering(closing: false, bodyPending: true)
        #expect(closes)
        #expect(streamed.m.requestBody(Self.bytes("5")) == .none)
        #expect(streamed.m.requestEnd() == .none)
        #expect(!streamed.m.isIdle)
    }

    @Test("on a connection that closes after the request, a failure's answer closes it too")
    func failClosing() {
        let (machine, _) = Self.forwarding(keepAlive: false)
        #expect(
            machine.m.connectFailed(exchange: machine.m.exchangeNumber!)
                == .fail(GatewayProblem.upstreamUnavailable.closingConnection(), answer: true))
    }

    @Test("an upstream answering before the body is complete ends the exchange and both connections")
    func earlyAnswer() {
        let (machine, number) = Self.forwarding(Self.post)
        _ = machine.m.connected(exchange: number, reused: false)
        _ = machine.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true)
        #expect(machine.m.upstreamEnd() == .finish(keepUpstream: false, closeClient: true))
        #expect(machine.m.requestBody(Self.bytes("late")) == .none)
    }

    @Test("a body-less idempotent request on a reused connection that closed is retried once, with its head and end")
    func retry() {
        let (machine, number) = Self.forwarding()
        _ = machine.m.connected(exchange: number, reused: true)
        _ = machine.m.requestEnd()
        #expect(machine.m.upstreamClosed() == .retry)
        #expect(machine.m.connected(exchange: number, reused: false) == .attach(parts: [.head(Self.get), .end(nil)], armTimeout: true))
        #expect(machine.m.upstreamClosed() == .fail(.upstreamFailed, answer: true))
    }

    @Test(
        "no retry for a request with a body, a non-idempotent method, a new connection, or an incomplete request",
        arguments: ["body", "post", "fresh", "incomplete"])
    func noRetry(_ case: String) {
        let (machine, number) = Self.forwarding(`case` == "post" ? Self.post : Self.get)
        _ = machine.m.connected(exchange: number, reused: `case` != "fresh")
        if `case` == "body" { _ = machine.m.requestBody(Self.bytes("x")) }
        if `case` != "incomplete" { _ = machine.m.requestEnd() }
        #expect(machine.m.upstreamClosed() == .fail(.upstreamFailed, answer: true))
    }

    @Test("an upstream that closes mid-response is an upstream abort: the client connection closes, nothing more happens")
    func closedMidResponse() {
        let (machine, number) = Self.forwarding()
        _ = machine.m.connected(exchange: number, reused: true)
        _ = machine.m.requestEnd()
        _ = machine.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true)
        _ = machine.m.upstreamBody(Self.bytes("h"))
        #expect(machine.m.upstreamClosed() == .upstreamAborted(.closed))
        #expect(machine.m.responseTimedOut(exchange: number) == .none)
        #expect(machine.m.idleTimedOut(clientWritable: true) == .none)
        #expect(machine.m.clientClosed() == .none)
    }

    /// A machine whose exchange has a started response: the whole request sent when `complete`.
    static func answering(requestComplete complete: Bool = true) -> Driver {
        let (machine, number) = Self.forwarding(Self.post)
        _ = machine.m.connected(exchange: number, reused: false)
        _ = machine.m.requestBody(Self.bytes("ab"))
        if complete { _ = machine.m.requestEnd() }
        _ = machine.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true)
        _ = machine.m.upstreamBody(Self.bytes("h"))
        return machine
    }

    @Test("idle_timeout during a started response, the client taking it, is an upstream that stalled")
    func stalledMidResponse() {
        let machine = Self.answering()
        #expect(machine.m.idleTimedOut(clientWritable: true) == .upstreamAborted(.stalled))
        #expect(!machine.m.isForwarding)
        #expect(machine.m.upstreamClosed() == .none)
        #expect(machine.m.clientClosed() == .none)
    }

    @Test("idle_timeout is not the upstream's doing when the client stopped reading")
    func clientNotReading() {
        let machine = Self.answering()
        #expect(machine.m.idleTimedOut(clientWritable: false) == .none)
        #expect(machine.m.clientClosed() == .abandonUpstream)
    }

    @Test("idle_timeout is not the upstream's doing while the client has not sent its whole body")
    func clientBodyIncomplete() {
        let machine = Self.answering(requestComplete: false)
        #expect(machine.m.idleTimedOut(clientWritable: true) == .none)
        #expect(machine.m.clientClosed() == .abandonUpstream)
    }

    @Test("idle_timeout before a response head, or with no request, is not an upstream abort")
    func idleWithoutResponse() {
        let (waiting, number) = Self.forwarding()
        _ = waiting.m.connected(exchange: number, reused: false)
        _ = waiting.m.requestEnd()
        #expect(waiting.m.idleTimedOut(clientWritable: true) == .none)
        #expect(Driver().m.idleTimedOut(clientWritable: true) == .none)
    }

    @Test("a client that goes away mid-response only abandons the upstream")
    func clientGoneMidResponse() {
        let machine = Self.answering()
        #expect(machine.m.clientClosed() == .abandonUpstream)
        #expect(machine.m.upstreamClosed() == .none)
    }

    @Test("late callbacks of an earlier exchange are recognised: its connection goes back, its timer does nothing")
    func staleCallbacks() {
        let (machine, number) = Self.forwarding()
        _ = machine.m.connected(exchange: number, reused: false)
        _ = machine.m.requestEnd()
        _ = machine.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true)
        _ = machine.m.upstreamEnd()
        _ = machine.m.admitted(upstreamHead: Self.get, keepAlive: true, maxBodyBytes: 0, heldBodyLimit: nil)
        #expect(machine.m.connected(exchange: number, reused: false) == .releaseConnection)
        #expect(machine.m.responseTimedOut(exchange: number) == .none)
        #expect(machine.m.connectFailed(exchange: number) == .none)
        #expect(machine.m.responseTimedOut(exchange: number + 1) == .fail(.upstreamTimeout, answer: true))
    }

    @Test("a 101 from the upstream is a failure, other 1xx are dropped, and a body or end before a head is a failure")
    func badUpstream() {
        let (switching, _) = Self.forwarding()
        #expect(
            switching.m.upstreamHead(
                HTTPResponseHead(version: .http1_1, status: .switchingProtocols), clientVersion: .http1_1, hasContentLength: false)
                == .fail(.upstreamFailed, answer: true))
        let (interim, _) = Self.forwarding()
        #expect(
            interim.m.upstreamHead(HTTPResponseHead(version: .http1_1, status: .continue), clientVersion: .http1_1, hasContentLength: false)
                == .none)
        #expect(interim.m.upstreamBody(Self.bytes("x")) == .fail(.upstreamFailed, answer: true))
        let (early, _) = Self.forwarding()
        #expect(early.m.upstreamEnd() == .fail(.upstreamFailed, answer: true))
    }

    @Test("HTTP/1.0: keep-alive is said, and an answer without a length closes the connection")
    func http10() {
        let (keep, _) = Self.forwarding()
        #expect(keep.m.upstreamHead(Self.ok, clientVersion: .http1_0, hasContentLength: true) == .writeResponseHead(connection: .keepAlive))
        let (unsized, _) = Self.forwarding()
        #expect(unsized.m.upstreamHead(Self.ok, clientVersion: .http1_0, hasContentLength: false) == .writeResponseHead(connection: .close))
        let (closing, _) = Self.forwarding(keepAlive: false)
        #expect(closing.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true) == .writeResponseHead(connection: .close))
    }

    @Test("client errors: a parse error is answered and closes; one on a closing connection is ignored; others close")
    func clientErrors() {
        let idle = Driver()
        #expect(idle.m.clientError(parseProblem: .headersTooLarge, isActive: true) == .fail(.headersTooLarge, answer: true))
        let gone = Driver()
        #expect(gone.m.clientError(parseProblem: .headersTooLarge, isActive: false) == .close)
        let other = Driver()
        #expect(other.m.clientError(parseProblem: nil, isActive: true) == .close)
        let (started, number) = Self.forwarding()
        _ = started.m.connected(exchange: number, reused: false)
        _ = started.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true)
        if case .fail(_, answer: let answer) = started.m.clientError(parseProblem: .headersTooLarge, isActive: true) {
            #expect(!answer)
        } else {
            Issue.record("not a failure")
        }
        #expect(started.m.clientError(parseProblem: .headersTooLarge, isActive: true) == .none)
    }

    @Test("the client closing mid-exchange abandons the upstream connection")
    func clientClosed() {
        let (machine, _) = Self.forwarding()
        #expect(machine.m.clientClosed() == .abandonUpstream)
        #expect(machine.m.clientClosed() == .none)
    }

    @Test("request bytes waiting for a connection hold client reads beyond 64 KiB")
    func waitingBacklog() {
        let (machine, number) = Self.forwarding(Self.post, maxBody: 1 << 20)
        _ = machine.m.requestBody(ByteBuffer(repeating: 1, count: Machine.waitingLimit - 1))
        #expect(!machine.m.isWaitingBacklogFull)
        _ = machine.m.requestBody(ByteBuffer(repeating: 1, count: 1))
        #expect(machine.m.isWaitingBacklogFull)
        _ = machine.m.connected(exchange: number, reused: false)
        #expect(!machine.m.isWaitingBacklogFull)
    }

    @Test("a body refused mid-way (too slow, over the budget) is answered and closes the connection; after the answer started, only closes")
    func bodyRefused() {
        let (machine, number) = Self.forwarding(Self.post)
        _ = machine.m.connected(exchange: number, reused: false)
        #expect(machine.m.requestBody(Self.bytes("a")) == .sendUpstream(.body(.byteBuffer(Self.bytes("a")))))
        #expect(machine.m.requestBodyRefused(.bodyTimeout("slow")) == .fail(.bodyTimeout("slow"), answer: true))
        #expect(machine.m.bodyPending)

        let (early, earlyNumber) = Self.forwarding(Self.post)
        _ = early.m.connected(exchange: earlyNumber, reused: false)
        #expect(early.m.upstreamHead(Self.ok, clientVersion: .http1_1, hasContentLength: true) == .writeResponseHead(connection: .none))
        #expect(early.m.requestBodyRefused(.heldBodyBudgetExceeded) == .fail(.heldBodyBudgetExceeded.closingConnection(), answer: false))

        let (complete, _) = Self.forwarding(Self.get)
        _ = complete.m.requestEnd()
        #expect(complete.m.requestBodyRefused(.bodyTimeout("slow")) == .none)
    }

    @Test("a held body's bytes are known while it is held, and not once it went upstream")
    func heldBytes() {
        let (machine, _) = Self.forwarding(Self.post, held: 100)
        #expect(machine.m.heldBodyBytes == 0)
        _ = machine.m.requestBody(Self.bytes("abc"))
        #expect(machine.m.heldBodyBytes == 3)
        _ = machine.m.requestEnd()
        #expect(machine.m.heldBodyChecked(refusal: nil) == .connect(allowReuse: true))
        #expect(machine.m.heldBodyBytes == nil)
    }

    @Test("no request slot in time: 503 upstream_busy")
    func noSlot() {
        let (machine, number) = Self.forwarding(Self.get)
        _ = machine.m.requestEnd()
        #expect(machine.m.connectFailed(exchange: number, problem: .upstreamBusy) == .fail(.upstreamBusy, answer: true))
    }
}
