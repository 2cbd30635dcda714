/// The relay's version, reported by `/health` and `--version`.
public enum RelayVersion {
    public static let current = "0.1.0"
}
