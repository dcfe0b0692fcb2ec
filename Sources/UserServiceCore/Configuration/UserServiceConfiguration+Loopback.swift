extension UserServiceConfiguration {
    /// Whether ``host`` names the loopback interface, where only local processes such as the gateway can connect.
    var bindsToLoopback: Bool {
        let host = self.host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
