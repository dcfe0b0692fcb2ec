import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The HTTP-01 challenges (RFC 8555 §8.3) certbot's webroot plugin leaves in `acme_challenge_dir`:
/// `GET /.well-known/acme-challenge/TOKEN` is answered with the file
/// `DIR/.well-known/acme-challenge/TOKEN`, and nothing else under `DIR` is ever read.
///
/// A token is base64url only (no `.`, `/` or `%`), so a path can neither leave the challenge
/// folder nor name anything but one of its files; neither the folders below `DIR` nor the file may
/// be links, and the file must be a regular file of at most ``maxFileBytes``.
struct ACMEChallengeDirectory: Sendable {
    static let pathPrefix = "/.well-known/acme-challenge/"
    /// A key authorization is the token, a dot and a 43-character key thumbprint: far below this.
    static let maxFileBytes = 8 << 10
    /// ACME servers' tokens are 43 characters; RFC 8555 sets no upper bound, this one keeps paths short.
    static let maxTokenLength = 255

    /// certbot's webroot, as `acme_challenge_dir` names it.
    let root: String

    /// The token `target` asks for, when it is exactly a challenge path with a base64url token.
    static func token(in target: String) -> String? {
        guard target.hasPrefix(pathPrefix) else { return nil }
        let token = target.utf8.dropFirst(pathPrefix.utf8.count)
        guard (1...maxTokenLength).contains(token.count), token.allSatisfy(isBase64URL) else { return nil }
        return String(token)
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// The key authorization for `token`, or `nil` when there is no such file or it is not one
    /// this directory would serve. Blocking: run it on a thread pool, never on an event loop.
    func keyAuthorization(token: String) -> ByteBuffer? {
        // `root` may be a link (under DynamicUser, /var/lib/gateway is one); below it, nothing may
        // be: a linked `.well-known` or `acme-challenge` would lead anywhere, a linked file too.
        // O_NONBLOCK: a FIFO left in the folder must not hang the reading thread on open.
        var descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        for folder in [".well-known", "acme-challenge"] where descriptor >= 0 {
            let parent = descriptor
            descriptor = openat(parent, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(parent)
        }
        guard descriptor >= 0 else { return nil }
        let folder = descriptor
        descriptor = openat(folder, token, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        close(folder)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size <= Self.maxFileBytes else {
            return nil
        }
        var buffer = ByteBufferAllocator().buffer(capacity: Int(status.st_size) + 1)
        // Read to the end, one byte past the bound at most: a file that grew is refused too.
        while buffer.readableBytes <= Self.maxFileBytes {
            var count = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { bytes in
                count = read(descriptor, bytes.baseAddress, bytes.count)
                return max(count, 0)
            }
            if count == 0 { return buffer }
            guard count > 0 || errno == EINTR else { return nil }
        }
        return nil
    }

    /// Refuses a directory the gateway could not serve challenges from: missing, not a directory,
    /// or not readable and searchable by this process.
    static func check(_ path: String) throws(StartupError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw StartupError("server.acme_challenge_dir", "\(path) does not exist (create it, readable by the gateway)")
        }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            throw StartupError("server.acme_challenge_dir", "\(path) is not a directory")
        }
        guard access(path, R_OK | X_OK) == 0 else {
            throw StartupError("server.acme_challenge_dir", "\(path) is not readable by this process")
        }
    }
}
