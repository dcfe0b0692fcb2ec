import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The `gateway` binary's operator commands.
@Suite("Command line")
struct CommandLineTests {
    @Test("--version prints the version")
    func version() async throws {
        let result = try await runGateway(["--version"])
        #expect(result.status == 0)
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test("check-config accepts a good config and summarises it")
    func checkConfigGood() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeConfig(in: directory, upstreamPort: 8081)
        let result = try await runGateway(["check-config", "--config", path], environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(path): OK"))
        #expect(result.output.contains("http://127.0.0.1:8081"))
    }

    @Test("check-config lists every problem with file, line and key path")
    func checkConfigBad() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeConfig(
            in: directory, upstreamPort: 8081, extraServer: #"max_connections = "many""# + "\nbogus = 1",
            routes: "[[route]]\npath = \"/\"\nupstream = \"nope\"\nauth = \"maybe\"")
        let result = try await runGateway(["check-config", "--config", path], environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret])
        #expect(result.status != 0)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(path):3: server.max_connections:") })
        #expect(lines.contains { $0.hasPrefix("\(path):4: server.bogus: unknown key") })
        #expect(lines.contains { $0.hasPrefix("\(path):") && $0.contains("route[0].upstream:") })
        #expect(lines.contains { $0.hasPrefix("\(path):") && $0.contains("route[0].auth:") && $0.contains("(allowed: ") })
    }

    @Test("check-config refuses a config whose protected routes have no secret")
    func checkConfigNoSecret() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try writeConfig(in: directory, upstreamPort: 8081, routes: "[[route]]\npath = \"/\"\nupstream = \"test\"")
        let result = try await runGateway(["check-config", "--config", path])
        #expect(result.status != 0)
        #expect(result.output.contains("jwt.secret_file: routes require authentication with an HS algorithm but no secret is configured"))
    }

    @Test("serve stops with exit 0 on SIGTERM")
    func sigterm() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let gateway = try await GatewayProcess.start(configPath: try writeConfig(in: directory, upstreamPort: upstream.port))
            #expect(await gateway.terminate() == .success)
        }
    }

    @Test(
        "under systemd (Type=notify) serve sends READY=1 once listening, RELOADING=1 and READY=1 around a reload, STOPPING=1 when SIGTERM starts the drain"
    )
    func systemdNotify() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let notify = try NotifySocket(directory: directory)
            let gateway = try await GatewayProcess.start(
                configPath: try writeConfig(in: directory, upstreamPort: upstream.port),
                environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret, "NOTIFY_SOCKET": notify.path])
            let ready = await notify.receive(within: 10)
            #expect(ready == "READY=1\nSTATUS=serving")
            gateway.reload()
            let reloading = await notify.receive(within: 10) ?? ""
            #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), "\(reloading)")
            #expect(await notify.receive(within: 10) == "READY=1\nSTATUS=serving")
            #expect(await gateway.terminate() == .success)
            let stopping = await notify.receive(within: 10)
            #expect(stopping == "STOPPING=1\nSTATUS=draining")
        }
    }

    @Test("with WATCHDOG_USEC set, serve pings the watchdog at half the interval while it works")
    func watchdog() async throws {
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let notify = try NotifySocket(directory: directory)
            let gateway = try await GatewayProcess.start(
                configPath: try writeConfig(in: directory, upstreamPort: upstream.port),
                environment: ["JWT_SECRET_KEY": Fixtures.jwtSecret, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
            var messages: [String] = []
            for _ in 0..<6 {
                guard let message = await notify.receive(within: 5) else { break }
                messages.append(message)
            }
            #expect(messages.contains("READY=1\nSTATUS=serving"), "\(messages)")
            #expect(messages.filter { $0 == "WATCHDOG=1" }.count >= 3, "\(messages)")
            #expect(await gateway.terminate() == .success)
        }
    }

    @Test("under socket activation serve takes over the listening socket systemd passes (LISTEN_FDS)")
    func socketActivation() async throws {
        let activate = "/usr/bin/systemd-socket-activate"
        try #require(
            FileManager.default.isExecutableFile(atPath: activate), "systemd-socket-activate is missing; scripts/test installs systemd")
        try await TestUpstream.with { upstream in
            let directory = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            // The config names another port: the socket systemd passes wins.
            let config = try writeConfig(in: directory, upstreamPort: upstream.port)
            let port = try RefusingPort().port
            // Run for 6 s at most, waited for on a thread of its own like every other child process.
            // systemd-socket-activate passes on only the variables named with -E.
            let passed = Fixtures.childEnvironment(["JWT_SECRET_KEY": Fixtures.jwtSecret]).flatMap { ["-E", "\($0.key)=\($0.value)"] }
            let activated = Task {
                try await runProcess(
                    "/usr/bin/timeout",
                    ["6", activate, "-l", "127.0.0.1:\(port)"] + passed + [
                        Fixtures.binDirectory.appendingPathComponent("gateway").path, "serve", "--config", config,
                    ])
            }
            let statuses = try await AuditShutdownTests.withClient { client in
                var statuses: [UInt] = []
                let deadline = ContinuousClock.now + .seconds(5)
                while statuses.count < 2 {
                    do {
                        let response = try await client.execute(
                            HTTPClientRequest(url: "https://localhost:\(port)/echo"), timeout: .seconds(5))
                        statuses.append(response.status.code)
                    } catch  where ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))  // systemd-socket-activate is not listening yet
                    }
                }
                return statuses
            }
            let output = try await activated.value.output
            #expect(output.contains("gateway listening"), "\(output)")
            #expect(statuses == [200, 200])
        }
    }
}
