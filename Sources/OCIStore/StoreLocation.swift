import Foundation

/// Where the store lives: `--root`, else `$OCITOOL_ROOT`, else
/// `$XDG_DATA_HOME/ocitool`, else `~/.local/share/ocitool`.
public enum StoreLocation {
    public static func resolve(_ explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let r = environment["OCITOOL_ROOT"], !r.isEmpty { return r }
        if let x = environment["XDG_DATA_HOME"], !x.isEmpty { return x + "/ocitool" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/share/ocitool"
    }
}
