/// The one reading of JSON the gateway takes a decision on: token segments, JWKS documents (fetched,
/// stored or from a file) and login bodies. JSON parsers disagree on what a repeated member name
/// means (Foundation's `JSONDecoder` takes the first, `JSONSerialization` the last, others refuse),
/// so a document that could be read two ways is refused before any decoder sees it.
extension JSONReader {
    /// Limits for the small documents decisions are taken on.
    static let decisions = JSONReader(maximumDepth: 32, maximumMembers: 10_000)

    /// Why `json` is not one strict (RFC 8259) JSON value with no member name repeated at any
    /// depth, or `nil` when it is.
    func ambiguity(in json: some Collection<UInt8>) -> JSONSyntaxError? {
        do {
            _ = try read(json)
            return nil
        } catch {
            return error
        }
    }

    /// Whether `json` is strict JSON that every parser reads alike (see ``ambiguity(in:)``).
    func isUnambiguous(_ json: some Collection<UInt8>) -> Bool { ambiguity(in: json) == nil }
}
