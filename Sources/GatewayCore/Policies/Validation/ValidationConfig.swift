/// A route's input checks, made at the edge before anything is forwarded.
public struct ValidationConfig: Sendable {
    /// Media types a request body may have (`Content-Type` without parameters, no case); else 415.
    /// Empty: any. Default empty.
    public var contentTypes: [String]
    /// The route's own body limit, over `server.max_body_bytes`. Default: the server's.
    public var maxBodyBytes: Int64?
    /// The body must be well-formed JSON: depth at most 32, at most 10,000 members and elements,
    /// no repeated member names; else 400 naming the byte offset. Default false.
    public var json: Bool
    /// Query parameters a request may have at most; else 400. Default: no limit.
    public var maxQueryParams: Int?
    /// Headers every request must carry; else 400. Default none.
    public var requiredHeaders: [String]
    /// A JSON Schema file (draft 2020-12 subset) the body must satisfy; implies `json`.
    public var schemaFile: String?
    /// The schema, compiled when the config was loaded.
    var schema: JSONSchema?

    public init(
        contentTypes: [String] = [], maxBodyBytes: Int64? = nil, json: Bool = false, maxQueryParams: Int? = nil,
        requiredHeaders: [String] = []
    ) {
        self.contentTypes = contentTypes
        self.maxBodyBytes = maxBodyBytes
        self.json = json
        self.maxQueryParams = maxQueryParams
        self.requiredHeaders = requiredHeaders
        self.schemaFile = nil
        self.schema = nil
    }

    /// Largest body a route that reads it whole (JSON validation) may take: it is held in memory.
    public static let maximumHeldBody: Int64 = 1 << 20

    /// Whether the body is read whole and checked before forwarding.
    var holdsBody: Bool { json || schema != nil }
}
