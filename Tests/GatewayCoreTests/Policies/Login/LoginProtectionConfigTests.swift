import GatewayCore
import Testing

@Suite("Config [login_protection] and route login")
struct LoginProtectionConfigTests {
    @Test("defaults to 5 failures per client, 10 per username, within 15m, locked for 15m")
    func defaults() throws {
        let login = try ConfigFixture.config("").loginProtection
        #expect(login.maxFailuresPerClient == 5)
        #expect(login.maxFailuresPerUsername == 10)
        #expect(login.window == .seconds(15 * 60))
        #expect(login.cooldown == .seconds(15 * 60))
    }

    @Test("reads every key")
    func everyKey() throws {
        let login = try ConfigFixture.config(
            """
            [login_protection]
            max_failures_per_client = 3
            max_failures_per_username = 0
            window = "5m"
            cooldown = "1h"
            """
        ).loginProtection
        #expect(
            login
                == LoginProtectionConfig(
                    maxFailuresPerClient: 3, maxFailuresPerUsername: 0, window: .seconds(300), cooldown: .seconds(3600)))
    }

    @Test("rejects thresholds outside 0..100", arguments: [-1, 101])
    func thresholdRange(count: Int) {
        let problems = ConfigFixture.problems("[login_protection]\nmax_failures_per_client = \(count)")
        #expect(problems == ["/srv/gw.conf:2: login_protection.max_failures_per_client: \(count) is out of range (allowed: 0..100)"])
    }

    @Test("rejects a window or cooldown longer than a day, and a threshold given as a string")
    func periodsAndTypes() {
        let problems = ConfigFixture.problems(
            """
            [login_protection]
            window = "2d"
            cooldown = "25h"
            max_failures_per_username = "10"
            """)
        #expect(
            problems == [
                "/srv/gw.conf:2: login_protection.window: 2d is too long (allowed: up to 1d)",
                "/srv/gw.conf:3: login_protection.cooldown: 25h is too long (allowed: up to 1d)",
                "/srv/gw.conf:4: login_protection.max_failures_per_username: expected an integer, found a string",
            ])
    }

    @Test("rejects unknown keys, listing the ones it accepts")
    func unknownKey() {
        let problems = ConfigFixture.problems("[login_protection]\nmax_failures = 3")
        #expect(
            problems == [
                "/srv/gw.conf:2: login_protection.max_failures: unknown key (allowed: max_failures_per_client, max_failures_per_username, window, cooldown)"
            ])
    }

    @Test("a route is a login route only when it says login = true")
    func routeLogin() throws {
        let config = try ConfigFixture.config(
            """
            [[route]]
            path = "/auth/login"
            upstream = "users"
            auth = "none"
            login = true

            [[route]]
            path = "/users"
            upstream = "users"
            """)
        #expect(config.routes.map(\.login) == [true, false])
    }

    @Test("rejects a login flag that is not a boolean")
    func routeLoginType() {
        let problems = ConfigFixture.problems("[[route]]\npath = \"/auth/login\"\nupstream = \"users\"\nlogin = \"yes\"")
        #expect(problems == ["/srv/gw.conf:4: route[0].login: expected a boolean, found a string"])
    }

    @Test("the summary marks login routes and states the locks")
    func summary() throws {
        let config = try ConfigFixture.config(
            """
            [login_protection]
            max_failures_per_client = 3

            [[route]]
            path = "/auth/login"
            methods = ["POST"]
            upstream = "users"
            auth = "none"
            login = true
            """)
        let lines = config.summary.split(separator: "\n").map(String.init)
        #expect(lines.contains("  POST /auth/login (auth none, login) → users"))
        #expect(lines.contains("login protection: lock after 3 failures per client, 10 per username (0 = off) within 15m, for 15m"))
    }
}
