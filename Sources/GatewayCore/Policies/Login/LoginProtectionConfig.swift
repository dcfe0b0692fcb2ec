/// `[login_protection]`: how failed logins on `login = true` routes lock out a client address or a
/// username for a while.
///
/// The username threshold is the looser one on purpose: anyone can fail logins for a victim's
/// username and so lock the victim out, while an address lock only stops the address that failed.
public struct LoginProtectionConfig: Sendable, Equatable {
    /// Failed logins from one client address within ``window`` that lock the address; 0 turns this
    /// lock off. Default 5.
    public var maxFailuresPerClient: Int
    /// Failed logins for one username within ``window`` that lock the username; 0 turns this lock
    /// off. Default 10.
    public var maxFailuresPerUsername: Int
    /// How far back failures count. Default 15 minutes.
    public var window: Duration
    /// How long a lock lasts. Default 15 minutes.
    public var cooldown: Duration

    public init(
        maxFailuresPerClient: Int = 5,
        maxFailuresPerUsername: Int = 10,
        window: Duration = .seconds(15 * 60),
        cooldown: Duration = .seconds(15 * 60)
    ) {
        self.maxFailuresPerClient = maxFailuresPerClient
        self.maxFailuresPerUsername = maxFailuresPerUsername
        self.window = window
        self.cooldown = cooldown
    }
}
