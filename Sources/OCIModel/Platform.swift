#if canImport(Glibc)
import Glibc
#endif

/// An image platform (image-index.md `platform`): `os/arch[/variant]`.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case os, architecture, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]` (e.g. `linux/arm64/v8`).
    public init(parsing s: String) throws {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalid("platform \"\(s)\"", "expected os/arch[/variant], e.g. linux/amd64")
        }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }

    /// Does this platform satisfy a requested one? A missing variant in the
    /// request matches any variant (arm64 ≈ arm64/v8).
    public func matches(_ wanted: Platform) -> Bool {
        guard os == wanted.os, architecture == wanted.architecture else { return false }
        guard let wv = wanted.variant else { return true }
        return (variant ?? Platform.defaultVariant(architecture)) == wv
    }

    static func defaultVariant(_ arch: String) -> String? {
        switch arch {
        case "arm64": return "v8"
        default: return nil
        }
    }

    /// The platform of this machine, in OCI (Go) names.
    public static var host: Platform {
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: u.machine) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        switch machine {
        case "x86_64": return Platform(os: "linux", architecture: "amd64")
        case "aarch64", "arm64": return Platform(os: "linux", architecture: "arm64", variant: "v8")
        case "armv7l": return Platform(os: "linux", architecture: "arm", variant: "v7")
        case "i686", "i386": return Platform(os: "linux", architecture: "386")
        case "ppc64le": return Platform(os: "linux", architecture: "ppc64le")
        case "s390x": return Platform(os: "linux", architecture: "s390x")
        case "riscv64": return Platform(os: "linux", architecture: "riscv64")
        default: return Platform(os: "linux", architecture: machine)
        }
    }
}
