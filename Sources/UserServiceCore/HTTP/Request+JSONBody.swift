import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// Reads and decodes a strict JSON body.
    ///
    /// Refuses, as ``APIError``s: a Content-Type other than application/json (415), a body larger than
    /// the context's `maxUploadSize` (413), malformed JSON, a non-object, unknown, missing or mistyped fields (400).
    func decodeJSONBody<Body: StrictJSONBody>(as _: Body.Type, context: some RequestContext) async throws -> Body {
        guard let contentType = self.headers[.contentType].flatMap(MediaType.init(from:)),
            contentType.type == .application, contentType.subType == "json"
        else {
            throw APIError.unsupportedMediaType
        }
        if let length = self.headers[.contentLength].flatMap({ Int($0) }), length > context.maxUploadSize {
            throw APIError.payloadTooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await self.body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        }
        do {
            return try JSONDecoder().decode(StrictJSON<Body>.self, from: Data(buffer.readableBytesView)).value
        } catch let error as UnknownFieldsError {
            throw APIError.unknownFields(error.names)
        } catch let error as DecodingError {
            throw APIError(decodingError: error)
        }
    }
}

extension APIError {
    /// The client-facing form of a JSON decoding failure: which field, and what kind of problem, but no internals.
    fileprivate init(decodingError: DecodingError) {
        switch decodingError {
        case .keyNotFound(let key, let context):
            self = .missingField((context.codingPath + [key]).fieldPath)
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            self = .invalidBody
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            self = .invalidType(context.codingPath.fieldPath)
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            self = .invalidType(context.codingPath.fieldPath)
        default:
            self = .malformedJSON
        }
    }
}

extension [any CodingKey] {
    /// "name", or "outer.0.inner" for nested values.
    fileprivate var fieldPath: String {
        self.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
