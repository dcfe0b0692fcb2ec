import Foundation
import Testing

/// HTTP/2 against the real `gateway` binary: load from h2load, rapid reset, drain on SIGTERM, the access log.
@Suite("HTTP/2 against the real binary", .timeLimit(.minutes(3)))
struct HTTP2BinaryTests {
    func withGateway(extraServer: String = "", _ body: (GatewayProcess, TestUpstream) async throws -> Void) async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = try writeConfig(in: directory, upstreamPort: upstream.port, extraServer: extraServer)
            let gateway = try await GatewayProcess.start(configPath: config)
            try await body(gateway, upstream)
            _ = await gateway.terminate()
        }
    }

    @Test("h2load: 2,000 requests over 4 connections, 10 streams each in flight, all answered 2xx over HTTP/2")
    func h2load() async throws {
        try await withGateway { gateway, upstream in
            let run = try await runProcess(
                "/usr/bin/h2load", ["-n", "2000", "-c", "4", "-m", "10", "https://127.0.0.1:\(gateway.port)/echo"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("Application protocol: h2"), "\(run.output)")
            #expect(run.output.contains("2000 succeeded, 0 failed, 0 errored, 0 timeout"), "\(run.output)")
            #expect(run.output.contains("status codes: 2000 2xx"), "\(run.output)")
            #expect(upstream.requestsSeen >= 2000, "every stream went upstream")
        }
    }

    @Test(
        "10,000 rapidly reset streams (CVE-2023-44487) get GOAWAY ENHANCE_YOUR_CALM; memory stays bounded and the next connection is served"
    )
    func rapidReset() async throws {
        try await withGateway { gateway, _ in
            let warm = try await Curl.send(port: gateway.port, http2: true, path: "/echo")
            #expect(warm.status == 200)
            let before = gateway.residentBytes
            for _ in 0..<3 {
                let outcome = try await HostileHTTP2Client.run(port: gateway.port, "rapid-reset", "10000")
                #expect(outcome.goAway == HostileHTTP2Client.enhanceYourCalm)
            }
            let after = try await Curl.send(port: gateway.port, http2: true, path: "/echo")
            #expect(after.status == 200)
            #expect(after.version == "2")
            let grown = gateway.residentBytes - before
            #expect(grown < 64 << 20, "RSS grew by \(grown >> 20) MiB")
        }
    }

    @Test("a client that does not open its flow-control window holds the upstream's download: the gateway does not buffer it")
    func slowReader() async throws {
        try await withGateway { gateway, _ in
            let pid = String(gateway.process.processIdentifier)
            let outcome = try await HostileHTTP2Client.run(port: gateway.port, "stall", "/download?bytes=268435456", pid)
            #expect(outcome.status == 200)
            let received = outcome.fields["received"] as? Int ?? -1
            #expect(received <= 65_535, "the stream's initial window")
            let grown = (outcome.fields["rss_stalled_kib"] as? Int ?? 0) - (outcome.fields["rss_before_kib"] as? Int ?? 0)
            #expect(grown < 32 << 10, "RSS grew by \(grown >> 10) MiB while 256 MiB waited upstream")
            let after = try await Curl.send(port: gateway.port, http2: true, path: "/echo")
            #expect(after.status == 200)
        }
    }

    @Test("SIGTERM: the connection gets GOAWAY NO_ERROR, its open stream finishes, then it closes and the gateway exits 0")
    func drain() async throws {
        try await withGateway { gateway, upstream in
            let port = gateway.port
            async let outcome = HostileHTTP2Client.run(port: port, "request-then-wait", "GET", "/slow?ms=1500")
            let deadline = ContinuousClock.now + .seconds(20)
            while upstream.requestsSeen < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let exit = await gateway.terminate()
            let finished = try await outcome
            #expect(finished.status == 200)
            #expect(finished.goAway == 0)
            #expect(finished.closed)
            #expect(exit == .success)
        }
    }

    @Test("each stream gets its own access log line, which says HTTP/2.0")
    func accessLog() async throws {
        try await withGateway { gateway, _ in
            _ = try await Curl.send(port: gateway.port, http2: true, path: "/echo/h2")
            let deadline = ContinuousClock.now + .seconds(10)
            while !gateway.log.contains("gateway.path=/echo/h2"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let line = gateway.log.split(separator: "\n").first { $0.contains("gateway.path=/echo/h2") } ?? ""
            #expect(line.contains("gateway.protocol=HTTP/2.0"))
            #expect(line.contains("gateway.status=200"))
        }
    }
}
