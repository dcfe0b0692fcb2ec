import Crypto
import Foundation
import NIOHTTP1
import Synchronization

/// `GET /status` on the admin listener: one server-rendered HTML page for an operator, readable
/// without JavaScript, with no external assets and a Content-Security-Policy that allows only its
/// own style sheet. It refreshes itself every 5 seconds.
///
/// It shows the version, uptime, config generation and last reload; the listeners and their
/// certificates; each upstream target's health and last probe; each route's policies in order
/// with its request rate and 5xx ratio over the last minutes; the newest security events of the
/// audit trail; and the keys rate limits refused most. Tokens never appear: the audit trail holds
/// none.
struct StatusPage: Sendable {
    let server: GatewayServer
    let store: any GatewayStore
    let readings: @Sendable () -> GatewayMetrics.Readings
    let admin: HostPort
    let traffic = RouteTraffic()

    /// How far back the request rates look, and how often they are sampled.
    static let window: Duration = .seconds(300)
    static let sampleInterval: Duration = .seconds(5)
    /// How far back the security events and the rate-limited keys look.
    static let auditWindow: TimeInterval = 3600

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2329;background:#fff}
        h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.4em 0 .4em}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #dde1e5;vertical-align:top}
        th{background:#f3f5f7}.up{color:#126b2f;font-weight:600}.down{color:#b3261e;font-weight:600}.unchecked{color:#8a6d00}
        .meta span{margin-right:1.4em}.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.95em}
        """

    /// The page's policy: nothing loads but its own style element.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'sha256-\(Data(SHA256.hash(data: Array(style.utf8))).base64EncodedString())'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Samples the request counters every ``sampleInterval`` until cancelled.
    func sampleTraffic() async {
        while !Task.isCancelled {
            traffic.sample(metricsText(), at: Date())
            try? await Task.sleep(for: Self.sampleInterval)
        }
    }

    private func metricsText() -> String {
        String(decoding: server.metrics.exposition(readings()), as: UTF8.self)
    }

    func response() async -> AdminResponse {
        let now = Date()
        let current = metricsText()
        let since = now.addingTimeInterval(-Self.auditWindow)
        let events = (try? await store.auditEvents(AuditQuery(since: since, limit: 500))) ?? []
        // Their own query, so that a burst of other events cannot crowd them out of the hour.
        let refusals = (try? await store.auditEvents(AuditQuery(since: since, type: .rateLimited, limit: 5_000))) ?? []
        let body = render(
            now: now, events: events.map(\.event), refusals: refusals.map(\.event), rates: traffic.rates(upTo: current, at: now))
        return AdminResponse(
            status: .ok,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", Self.contentSecurityPolicy),
                ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ],
            body: Array(body.utf8))
    }

    func render(now: Date, events: [AuditEvent], refusals: [AuditEvent], rates: [String: RouteTraffic.Rate]) -> String {
        let runtime = server.runtime
        let config = runtime.config
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="refresh" content="5"><title>Gateway status · \(escape(config.server.nodeName))</title>
            <style>\(Self.style)</style></head><body>
            <h1>Gateway status · \(escape(config.server.nodeName))</h1>
            <p class="meta"><span>version <b id="version">\(GatewayVersion.string)</b></span>
            <span>up <b id="uptime">\(Self.duration(now.timeIntervalSince(server.startedAt)))</b></span>
            <span>config generation <b id="generation">\(server.generation)</b></span>
            <span>last reload: <b id="last-reload">\(lastReload(now: now))</b></span>
            <span>open connections <b>\(server.openConnections)</b></span></p>
            """
        html += section(
            "Listeners", id: "listeners", header: ["listener", "serves", "certificates"], rows: listenerRows(config, runtime, now: now))
        html += section(
            "Upstreams", id: "upstreams", header: ["upstream", "target", "state", "last probe", "last failure"],
            rows: upstreamRows(now: now))
        html += section(
            "Routes", id: "routes", header: ["route", "upstream", "policies, in order", "requests/s", "5xx"],
            rows: routeRows(runtime, rates: rates))
        let security = events.filter { $0.type.isSecurityEvent }.prefix(15)
        html += section(
            "Security events (newest, last hour)", id: "security-events", header: ["time", "type", "client", "route", "reason"],
            rows: security.map { event in
                [Self.time(event.time), event.type.rawValue, event.client ?? "–", event.route ?? "–", event.reason ?? ""].map(escape)
            })
        html += section(
            "Rate-limited keys (last hour)", id: "rate-limited", header: ["key", "refusals"], rows: topRateLimited(refusals))
        return html + "</body></html>\n"
    }

    private func lastReload(now: Date) -> String {
        guard let last = server.reloads.lastOutcome else { return "none since start" }
        let result = last.applied ? "applied" : "rejected"
        return "\(result) \(Self.duration(now.timeIntervalSince(last.time))) ago (\(escape(last.detail)))"
    }

    private func listenerRows(_ config: GatewayConfig, _ runtime: GatewayRuntime, now: Date) -> [[String]] {
        let certificates = runtime.certificates.map { certificate in
            let days = Int(certificate.notValidAfter.timeIntervalSince(now) / 86_400)
            return "\(escape(certificate.name)): expires \(Self.day(certificate.notValidAfter)) (\(days) days)"
        }.joined(separator: "<br>")
        var rows = [
            [
                "https://\(config.server.listen)", "TLS \(config.tls.minVersion.rawValue)+" + (config.server.http2 ? ", HTTP/2" : ""),
                certificates,
            ]
        ]
        if let redirect = config.server.redirectHTTPListen { rows.append(["http://\(redirect)", "308 to https", "–"]) }
        rows.append(["http://\(admin)", "admin (this page)", "–"])
        return rows
    }

    private func upstreamRows(now: Date) -> [[String]] {
        server.health.targets.map { target in
            let state = target.current
            return [
                escape(target.upstream), escape(target.address.description), "<span class=\"\(state)\">\(state)</span>",
                target.lastProbe.map { Self.duration(now.timeIntervalSince($0)) + " ago" } ?? "not yet", escape(target.failure ?? ""),
            ]
        }
    }

    private func routeRows(_ runtime: GatewayRuntime, rates: [String: RouteTraffic.Rate]) -> [[String]] {
        runtime.routes.all.map { route in
            let policies = route.headPolicies.map { Self.label($0, route: route) } + route.bodyPolicies.map { Self.label($0, route: route) }
            let rate = rates[route.prefix]
            return [
                "<code>\(escape(route.prefix))</code>", escape(route.upstream), escape(policies.joined(separator: " → ")),
                rate.map { String(format: "%.2f", $0.perSecond) } ?? "0.00",
                rate.flatMap { $0.errorRatio }.map { String(format: "%.1f%%", $0 * 100) } ?? "–",
            ]
        }
    }

    /// The keys rate limits refused most: a subject, else the client address, as the trail names them.
    private func topRateLimited(_ refusals: [AuditEvent]) -> [[String]] {
        var counts: [String: Int] = [:]
        for event in refusals {
            counts[event.subject.map { "sub:\($0)" } ?? "ip:\(event.client ?? "?")", default: 0] += 1
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map {
            [escape($0.key), "\($0.value)"]
        }
    }

    private static func label(_ policy: any HeadPolicy, route: Route) -> String {
        switch policy {
        case is CORSPolicy: "cors"
        case is ClientAllowlist: "allow_clients"
        case let limit as BodySizeLimit: "max_body \(limit.maxBodyBytes) B"
        case is TokenRequirement:
            "auth \(route.auth.rawValue)" + (route.scopes.isEmpty ? "" : " scopes \(route.scopes.joined(separator: ","))")
                + (route.roles.isEmpty ? "" : " roles \(route.roles.joined(separator: ","))")
        case let limits as RateLimitPolicySet: "rate_limit " + limits.policies.map(\.name).joined(separator: ", ")
        case is RequestValidation: "input checks"
        default: "\(type(of: policy))"
        }
    }

    private static func label(_ policy: any BodyPolicy, route: Route) -> String {
        switch policy {
        case is RequestValidation: "body json/schema"
        case is LoginPolicy: "login_protection"
        case is RequestBuffering: "request_buffering"
        default: "\(type(of: policy))"
        }
    }

    private func section(_ title: String, id: String, header: [String], rows: [[String]]) -> String {
        let head = header.map { "<th>\($0)</th>" }.joined()
        let body =
            rows.isEmpty
            ? "<tr><td colspan=\"\(header.count)\">none</td></tr>"
            : rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<h2>\(title)</h2><table id=\"\(id)\"><tr>\(head)</tr>\n\(body)</table>\n"
    }

    private func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(total % 60)s" }
        if total < 86_400 { return "\(total / 3600)h \(total % 3600 / 60)m" }
        return "\(total / 86_400)d \(total % 86_400 / 3600)h"
    }

    private static func time(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    private static func day(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day())
    }
}

/// Requests and 5xx answers per route, sampled from `gateway_requests_total`, for rates over the
/// last minutes. Holds the samples of one ``StatusPage/window`` (61 at one per 5 s); a page view
/// reads them without adding one, so no number of views grows the table.
final class RouteTraffic: Sendable {
    struct Rate: Equatable {
        let perSecond: Double
        /// 5xx answers over all answers in the window; `nil` when there was none.
        let errorRatio: Double?
    }

    private struct Sample {
        let time: Date
        /// Requests and 5xx answers by route, since start.
        let counts: [String: (total: Double, errors: Double)]
    }

    private let samples = Mutex<[Sample]>([])

    func sample(_ exposition: String, at time: Date) {
        let sample = Sample(time: time, counts: Self.counts(in: exposition))
        let oldest = time.addingTimeInterval(-Double(StatusPage.window.components.seconds))
        samples.withLock { samples in
            samples.append(sample)
            // Keep the last sample before the window, so the window is covered from its start.
            while samples.count > 2, samples[1].time <= oldest { samples.removeFirst() }
        }
    }

    /// Each route's rate from the oldest sample kept (the window's start) to `exposition` at `time`.
    func rates(upTo exposition: String, at time: Date) -> [String: Rate] {
        guard let first = samples.withLock({ $0.first }), time > first.time else { return [:] }
        let last = Sample(time: time, counts: Self.counts(in: exposition))
        let seconds = last.time.timeIntervalSince(first.time)
        var rates: [String: Rate] = [:]
        for (route, now) in last.counts {
            let before = first.counts[route] ?? (0, 0)
            let requests = now.total - before.total
            rates[route] = Rate(perSecond: requests / seconds, errorRatio: requests > 0 ? (now.errors - before.errors) / requests : nil)
        }
        return rates
    }

    /// `gateway_requests_total` by route from a Prometheus text page: all answers, and the 5xx.
    static func counts(in exposition: String) -> [String: (total: Double, errors: Double)] {
        var counts: [String: (total: Double, errors: Double)] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("gateway_requests_total{") {
            guard let route = label("route", in: line), let status = label("status", in: line),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            counts[route, default: (0, 0)].total += value
            if status.hasPrefix("5") { counts[route, default: (0, 0)].errors += value }
        }
        return counts
    }

    private static func label(_ name: String, in line: Substring) -> String? {
        guard let start = line.range(of: "\(name)=\"") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
