import Foundation

extension ValidationConfig {
    /// Decodes the validation keys of a `[[route]]` entry. A schema file is read and compiled here:
    /// a schema that does not compile is a config error.
    init(decoding table: ConfigTable<RouteConfig.Key>) {
        self.init(
            contentTypes: table.array(.contentTypes, Self.parseMediaType) ?? [],
            maxBodyBytes: table.byteSize(.maxBody, in: ByteSize(bytes: 1)...ByteSize(bytes: .max))?.bytes,
            json: table.bool(.json) ?? false,
            maxQueryParams: table.int(.maxQueryParams, in: 0...10_000),
            requiredHeaders: table.array(.requiredHeaders, ConfigHeaderName.parse) ?? []
        )
        schemaFile = table.filePath(.schema)
        if let schemaFile { schema = Self.loadSchema(schemaFile, table: table) }
        if holdsBody, let maxBodyBytes, maxBodyBytes > Self.maximumHeldBody {
            table.report(.maxBody, "a JSON route holds its body in memory to check it", allowed: "up to 1MiB")
        }
    }

    private static func loadSchema(_ path: String, table: ConfigTable<RouteConfig.Key>) -> JSONSchema? {
        guard let data = FileManager.default.contents(atPath: path) else {
            table.report(.schema, "cannot read \(path)")
            return nil
        }
        do {
            let document = try JSONReader(maximumDepth: 64, maximumMembers: 100_000).read(data)
            return try JSONSchema(document: document)
        } catch let error as JSONSyntaxError {
            table.report(.schema, "\(path): not JSON: \(error.description)")
        } catch let error as JSONSchema.CompileError {
            table.report(.schema, "\(path): \(error.description)")
        } catch {
            table.report(.schema, "\(path): \(error)")
        }
        return nil
    }

    /// `type/subtype`, lower-cased, without parameters.
    private static func parseMediaType(_ text: String) throws(ConfigValueProblem) -> String {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
        let isToken = { (part: Substring) in
            !part.isEmpty && part.utf8.allSatisfy { $0.isASCIIAlphanumeric || "!#$&-^_.+".utf8.contains($0) }
        }
        guard parts.count == 2, isToken(parts[0]), isToken(parts[1]) else {
            throw ConfigValueProblem("\(text.quotedForConfig) is not a media type", allowed: #""application/json""#)
        }
        return text.lowercased()
    }
}
