import Foundation
import GatewayCore

/// Audit events as an aligned text table for `gateway audit query`; with a NODE column when they
/// come from a store several gateways share.
struct AuditTable {
    private static let headers = ["ID", "TIME", "TYPE", "STATUS", "CLIENT", "SUBJECT", "REQUEST", "REASON"]
    /// Cells longer than this are cut with an ellipsis; `--json` shows them whole.
    private static let maximumCellLength = 60

    let text: String

    init(_ events: [StoredAuditEvent]) {
        guard !events.isEmpty else {
            text = "no audit events"
            return
        }
        let showsNode = events.contains { $0.node != nil }
        let rows = ([Self.headers] + events.map(Self.cells)).enumerated().map { index, row in
            showsNode ? [index == 0 ? "NODE" : Console.printable(events[index - 1].node ?? "-")] + row : row
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        text = rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
                .replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }

    private static func cells(_ stored: StoredAuditEvent) -> [String] {
        let event = stored.event
        let request = [event.method, event.path].compactMap { $0 }.joined(separator: " ")
        return [
            String(stored.id),
            Console.timestamp(event.time),
            event.type.rawValue,
            event.status.map(String.init) ?? "-",
            event.client ?? "-",
            event.subject ?? "-",
            request.isEmpty ? "-" : request,
            event.reason ?? "-",
        ].map { cell(Console.printable($0)) }
    }

    private static func cell(_ text: String) -> String {
        text.count > maximumCellLength ? text.prefix(maximumCellLength - 1) + "…" : text
    }
}

/// One audit event as a line of JSON for `gateway audit query --json`; absent fields are left out.
struct AuditJSONLine: Encodable {
    let id: Int64
    let node: String?
    let time: String
    let type: String
    let requestID: String?
    let client: String?
    let route: String?
    let method: String?
    let path: String?
    let subject: String?
    let reason: String?
    let status: Int?
    let tokenFingerprint: String?

    enum CodingKeys: String, CodingKey {
        case id, node, time, type
        case requestID = "request_id"
        case client, route, method, path, subject, reason, status
        case tokenFingerprint = "token_fingerprint"
    }

    init(_ stored: StoredAuditEvent) {
        let event = stored.event
        id = stored.id
        node = stored.node
        time = Console.timestamp(event.time)
        type = event.type.rawValue
        requestID = event.requestID
        client = event.client
        route = event.route
        method = event.method
        path = event.path
        subject = event.subject
        reason = event.reason
        status = event.status
        tokenFingerprint = event.tokenFingerprint
    }

    var text: String {
        get throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        }
    }
}
