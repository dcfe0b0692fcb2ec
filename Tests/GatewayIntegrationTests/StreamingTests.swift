import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Large bodies stream through the real gateway binary with bounded memory, both ways.
@Suite("Streaming", .serialized)
struct StreamingTests {
    /// 256 MiB by default; `GATEWAY_STREAM_TEST_BYTES` raises it (the 1 GiB figure in the notes).
    static let total = Int(ProcessInfo.processInfo.environment["GATEWAY_STREAM_TEST_BYTES"] ?? "") ?? 256 * 1024 * 1024
    static let allowedGrowth = 64 * 1024 * 1024

    func withGatewayProcess(_ body: (GatewayProcess, HTTPClient) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(
                in: directory, upstreamPort: upstream.port, extraServer: "max_body_bytes = \"4GiB\"\nrequest_body_timeout = \"10m\"")
            let gateway = try await GatewayProcess.start(configPath: config)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: GatewayHarness.clientConfiguration())
            do {
                try await body(gateway, client)
                try await client.shutdown()
                _ = await gateway.terminate()
            } catch {
                try? await client.shutdown()
                _ = await gateway.terminate()
                throw error
            }
        }
    }

    /// Runs `transfer` while sampling the gateway's RSS; returns the peak growth over the start.
    func peakGrowth(of gateway: GatewayProcess, during transfer: () async throws -> Void) async throws -> Int {
        let baseline = gateway.residentBytes
        let pid = gateway.process.processIdentifier
        let sampler = Task {
            var peak = baseline
            while !Task.isCancelled {
                peak = max(peak, GatewayProcess.residentBytes(pid: pid))
                try? await Task.sleep(for: .milliseconds(50))
            }
            return peak
        }
        try await transfer()
        sampler.cancel()
        let peak = await sampler.value
        print(
            "gateway RSS: baseline \(baseline / 1_048_576) MiB, peak \(peak / 1_048_576) MiB, growth \((peak - baseline) / 1_048_576) MiB over \(Self.total / 1_048_576) MiB"
        )
        return peak - baseline
    }

    @Test("a large upload streams through with bounded gateway memory")
    func upload() async throws {
        try await withGatewayProcess { gateway, client in
            let warmup = try await client.execute(HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo"), timeout: .seconds(10))
            _ = try await warmup.body.collect(upTo: 1 << 20)
            var received = 0
            let growth = try await peakGrowth(of: gateway) {
                var request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/sink")
                request.method = .POST
                request.body = .stream(ChunkSequence(total: Self.total), length: .known(Int64(Self.total)))
                let response = try await client.execute(request, timeout: .seconds(600))
                let body = try await response.body.collect(upTo: 1024)
                let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                received = json?["received"] as? Int ?? -1
            }
            #expect(received == Self.total)
            #expect(growth < Self.allowedGrowth)
        }
    }

    @Test("a large download streams through with bounded gateway memory")
    func download() async throws {
        try await withGatewayProcess { gateway, client in
            let warmup = try await client.execute(HTTPClientRequest(url: "https://localhost:\(gateway.port)/echo"), timeout: .seconds(10))
            _ = try await warmup.body.collect(upTo: 1 << 20)
            var received = 0
            let growth = try await peakGrowth(of: gateway) {
                let request = HTTPClientRequest(url: "https://localhost:\(gateway.port)/download?bytes=\(Self.total)")
                let response = try await client.execute(request, timeout: .seconds(600))
                for try await chunk in response.body { received += chunk.readableBytes }
            }
            #expect(received == Self.total)
            #expect(growth < Self.allowedGrowth)
        }
    }
}

/// `total` bytes in 64 KiB buffers, produced lazily.
struct ChunkSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let total: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var remaining: Int
        let chunk = ByteBuffer(repeating: UInt8(ascii: "u"), count: 64 * 1024)

        mutating func next() async -> ByteBuffer? {
            guard remaining > 0 else { return nil }
            let size = Swift.min(remaining, chunk.readableBytes)
            remaining -= size
            return chunk.getSlice(at: 0, length: size)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: total) }
}
