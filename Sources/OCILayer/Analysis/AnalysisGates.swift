import Foundation

/// CI gates over an analysis, after dive's `.dive-ci` rules
/// (`lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`),
/// evaluated on the same figures dive uses, so a `.dive-ci` carries over:
/// `lowest-efficiency=0.9,highest-wasted-bytes=20MB,highest-user-wasted-percent=0.1`.
public struct AnalysisGates: Sendable, Equatable {
    public enum Gate: Sendable, Equatable {
        /// Fails when dive's efficiency is below the value (0…1).
        case lowestEfficiency(Double)
        /// Fails when dive's wasted bytes exceed the value.
        case highestWastedBytes(Int64)
        /// Fails when dive's wasted bytes / user-layer bytes exceed the value (a ratio: 0.1 = 10 %).
        case highestUserWastedPercent(Double)

        public var key: String {
            switch self {
            case .lowestEfficiency: return "lowest-efficiency"
            case .highestWastedBytes: return "highest-wasted-bytes"
            case .highestUserWastedPercent: return "highest-user-wasted-percent"
            }
        }
    }

    /// A spec that cannot be read.
    public struct SpecError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public var gates: [Gate]

    public init(gates: [Gate]) { self.gates = gates }

    /// Parses `key=value[,key=value…]`; a value `disabled` turns a gate off
    /// (as in `.dive-ci`). Byte values take dive's units: `20MB` is 20×10⁶,
    /// `20MiB` 20×2²⁰, a bare number is bytes.
    /// - Throws: `SpecError` naming the bad part.
    public init(parsing spec: String) throws {
        var gates: [Gate] = []
        for raw in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let part = raw.trimmingCharacters(in: .whitespaces)
            guard let eq = part.firstIndex(of: "=") else {
                throw SpecError(description: "gate \"\(part)\" is not KEY=VALUE (keys: lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent)")
            }
            let key = part[..<eq].trimmingCharacters(in: .whitespaces)
            let value = part[part.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value == "disabled" {
                guard ["lowest-efficiency", "highest-wasted-bytes", "highest-user-wasted-percent"].contains(key) else {
                    throw SpecError(description: "unknown gate \"\(key)\" (keys: lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent)")
                }
                continue
            }
            switch key {
            case "lowest-efficiency":
                guard let v = Double(value), v.isFinite, v >= 0, v <= 1 else {
                    throw SpecError(description: "lowest-efficiency needs a ratio between 0 and 1, not \"\(value)\"")
                }
                gates.append(.lowestEfficiency(v))
            case "highest-wasted-bytes":
                guard let v = Self.parseBytes(value) else {
                    throw SpecError(description: "highest-wasted-bytes needs a size like 20MB, 512KiB or 1000, not \"\(value)\"")
                }
                gates.append(.highestWastedBytes(v))
            case "highest-user-wasted-percent":
                guard let v = Double(value), v.isFinite, v >= 0 else {
                    throw SpecError(description: "highest-user-wasted-percent needs a ratio (0.1 = 10 %), not \"\(value)\"")
                }
                gates.append(.highestUserWastedPercent(v))
            default:
                throw SpecError(description: "unknown gate \"\(key)\" (keys: lowest-efficiency, highest-wasted-bytes, highest-user-wasted-percent)")
            }
        }
        self.gates = gates
    }

    /// One line per failed gate (empty: every gate passed).
    public func failures(_ a: ImageAnalysis) -> [String] {
        let d = a.dive
        var out: [String] = []
        for g in gates {
            switch g {
            case let .lowestEfficiency(min):
                if d.efficiency < min {
                    out.append("gate lowest-efficiency failed: efficiency \(Self.number(d.efficiency)) is below \(Self.number(min))")
                }
            case let .highestWastedBytes(max):
                if d.wastedBytes > max {
                    out.append("gate highest-wasted-bytes failed: \(d.wastedBytes) wasted bytes (as dive counts) exceed \(max)")
                }
            case let .highestUserWastedPercent(max):
                let ratio = d.userWastedRatio ?? .infinity
                if ratio > max {
                    let shown = d.userWastedRatio.map { Self.number($0) } ?? "undefined (no user-layer bytes)"
                    out.append("gate highest-user-wasted-percent failed: wasted / user-layer bytes = \(shown) exceeds \(Self.number(max))")
                }
            }
        }
        return out
    }

    /// humanize.ParseBytes-style sizes: decimal (kB, MB, GB, TB, PB; K/M/G
    /// alone too) and binary (KiB, MiB, GiB, TiB, PiB) units, a fraction allowed.
    static func parseBytes(_ s: String) -> Int64? {
        let text = s.replacingOccurrences(of: " ", with: "")
        let split = text.firstIndex(where: { !($0.isNumber || $0 == ".") }) ?? text.endIndex
        let number = String(text[..<split]), unit = text[split...].lowercased()
        guard !number.isEmpty, let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let units: [String: Double] = [
            "": 1, "b": 1,
            "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12, "p": 1e15, "pb": 1e15,
            "ki": 1024, "kib": 1024, "mi": 1_048_576, "mib": 1_048_576, "gi": 1_073_741_824, "gib": 1_073_741_824,
            "ti": 1_099_511_627_776, "tib": 1_099_511_627_776, "pi": 1_125_899_906_842_624, "pib": 1_125_899_906_842_624,
        ]
        guard let factor = units[unit] else { return nil }
        let bytes = value * factor
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    static func number(_ v: Double) -> String {
        var s = String(format: "%.4f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
