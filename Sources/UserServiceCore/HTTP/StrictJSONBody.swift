/// A request body whose JSON object may hold only the keys of its `CodingKeys`.
protocol StrictJSONBody: Decodable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable
}

/// Thrown while decoding a ``StrictJSONBody`` that has keys it does not declare.
struct UnknownFieldsError: Error {
    /// The undeclared keys, sorted.
    let names: [String]
}

/// Decodes a ``StrictJSONBody`` after checking that the JSON object has no undeclared keys.
struct StrictJSON<Body: StrictJSONBody>: Decodable {
    let value: Body

    init(from decoder: any Decoder) throws {
        let allowed = Set(Body.CodingKeys.allCases.map(\.stringValue))
        let keys = try decoder.container(keyedBy: AnyCodingKey.self).allKeys
        let unknown = keys.map(\.stringValue).filter { !allowed.contains($0) }
        guard unknown.isEmpty else { throw UnknownFieldsError(names: unknown.sorted()) }
        self.value = try Body(from: decoder)
    }
}

/// A coding key for any JSON object key.
private struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
