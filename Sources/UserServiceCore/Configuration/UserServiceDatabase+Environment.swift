import PostgresSupport

extension UserServiceDatabase {
    /// The environment variable with the SQLite path, read when `--database` is not given.
    public static let pathVariable = "USERSERVICE_DATABASE"
    /// The environment variable with the PostgreSQL URL, read when `--database-url` is not given.
    public static let urlVariable = "DATABASE_URL"
    /// The systemd credential (`LoadCredential=database-password:FILE`) with the PostgreSQL password.
    public static let passwordCredential = "database-password"
    /// The SQLite file used when no database is named.
    public static let defaultPath = "./userservice.sqlite"

    /// The database the command line and the environment name.
    ///
    /// SQLite at `path`, else `$USERSERVICE_DATABASE`; PostgreSQL at `url`, else `$DATABASE_URL`; naming both is
    /// an error, naming neither means SQLite at ``defaultPath``. PostgreSQL's password comes from `passwordFile`,
    /// else the systemd credential ``passwordCredential``, else `$PGPASSWORD`; never from the URL.
    ///
    /// - Throws: ``UserServiceError`` when both engines are named, the URL is not valid (or holds a password),
    ///   the password file cannot be read, or a password file is given for SQLite.
    public init(
        path: String?,
        url: String?,
        passwordFile: String?,
        connectTimeout: Duration,
        statementTimeout: Duration,
        environment: [String: String]
    ) throws {
        let path = path ?? environment[Self.pathVariable]
        guard let url = url ?? environment[Self.urlVariable] else {
            guard passwordFile == nil else {
                throw UserServiceError.invalidConfiguration("a database password file applies only to a database URL")
            }
            self = .sqlite(path: path ?? Self.defaultPath)
            return
        }
        guard path == nil else {
            throw UserServiceError.invalidConfiguration(
                "name either a SQLite file (--database or \(Self.pathVariable)) "
                    + "or a PostgreSQL URL (--database-url or \(Self.urlVariable)), not both"
            )
        }
        do throws(PostgresURLError) {
            let settings = PostgresConnectionSettings(
                url: try PostgresURL(parsing: url),
                password: try PostgresPassword.load(
                    file: passwordFile,
                    credential: Self.passwordCredential,
                    environment: environment
                ),
                connectTimeout: connectTimeout,
                statementTimeout: statementTimeout,
                applicationName: "userservice"
            )
            self = .postgres(settings)
        } catch {
            throw UserServiceError.invalidConfiguration("the database URL: \(error.description)")
        }
    }
}
