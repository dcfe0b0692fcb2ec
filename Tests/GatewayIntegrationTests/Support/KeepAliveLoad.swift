import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOHTTP2
import Synchronization

/// Clients that send `GET` to one URL until stopped, counting what comes back: the load that a
/// reload or a certificate renewal must not fail one request of.
final class KeepAliveLoad: Sendable {
    struct Counts {
        var ok = 0
        var failed: [String] = []
        /// Requests an HTTP/2 connection's GOAWAY kept from being processed (retryable by RFC 9113 §8.7).
        var refused = 0
        var answered: Int { ok + failed.count }
    }

    let counts = Mutex(Counts())
    private let stopped = Atomic(false)

    /// One client's loop, until ``stop()`` or its task is cancelled (a step of the test threw):
    /// keep-alive requests, or each with `Connection: close`.
    func drive(_ client: HTTPClient, url: String, closing: Bool = false) async {
        while !stopped.load(ordering: .relaxed), !Task.isCancelled {
            var request = HTTPClientRequest(url: url)
            if closing { request.headers.add(name: "Connection", value: "close") }
            do {
                // Generous: a busy machine may keep a request waiting for seconds; only failing it counts.
                let response = try await client.execute(request, timeout: .seconds(60))
                _ = try await response.body.collect(upTo: 1 << 20)
                counts.withLock {
                    if response.status == .ok { $0.ok += 1 } else { $0.failed.append("status \(response.status)") }
                }
            } catch let error as NIOHTTP2Errors.StreamClosed where error.errorCode == .refusedStream {
                // A stream the client opened as the gateway said GOAWAY was not processed, and may be
                // retried; AsyncHTTPClient leaves that to the caller.
                counts.withLock { $0.refused += 1 }
            } catch let error as HTTPClientError where error == .cancelled {
                // AsyncHTTPClient gave the request to a connection that had just received GOAWAY, and
                // failed it before writing a byte.
                counts.withLock { $0.refused += 1 }
            } catch {
                counts.withLock { $0.failed.append("\(error)") }
            }
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// Waits until `requests` have been answered or have failed; after two minutes the load is
    /// stuck: it stops, and the error carries the gateway's last log lines.
    func waitFor(requests: Int, gateway: GatewayProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while counts.withLock({ $0.answered }) < requests {
            guard ContinuousClock.now < deadline else {
                stop()
                throw GatewayProcessError(log: gateway.log.split(separator: "\n").suffix(30).joined(separator: "\n"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
