/// The gateway's release version, printed by `gateway --version`.
public enum GatewayVersion {
    public static let string = "0.1.0"
}
