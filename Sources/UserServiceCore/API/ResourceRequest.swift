/// The body of `POST /resources` and `PUT /resources/{id}`.
struct ResourceRequest: StrictJSONBody {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, content
    }

    let name: String
    let content: String

    /// The validated name and content, or ``APIError/validationFailed(_:)`` naming each invalid field.
    func validated() throws -> ResourceContent {
        try FieldRules.enforce([
            "name": FieldRules.resourceName(self.name),
            "content": FieldRules.resourceContent(self.content),
        ])
        return ResourceContent(name: self.name, content: self.content)
    }
}
