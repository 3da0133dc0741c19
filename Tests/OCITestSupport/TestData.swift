/// Deterministic test data, so failures reproduce byte for byte.
public enum TestData {
    /// `count` pseudo-random bytes (SplitMix64 from `seed`): incompressible.
    public static func pseudoRandom(count: Int, seed: UInt64 = 0x5EED) -> [UInt8] {
        var state = seed
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i < count {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                for _ in 0..<8 where i < count {
                    raw[i] = UInt8(truncatingIfNeeded: z)
                    z >>= 8
                    i += 1
                }
            }
        }
        return out
    }

    /// `count` bytes that compress several-fold but not trivially: runs of
    /// words, numbers and random bytes, like real layer content.
    public static func compressible(count: Int, seed: UInt64 = 0xC0FFEE) -> [UInt8] {
        let noise = pseudoRandom(count: 4096, seed: seed)
        let words = ["layer", "blob", "sha256", "manifest", "config", "usr/lib/", "\n", " ", "0123456789", "{\"a\":1}"]
            .map { Array($0.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = 0
        while out.count < count {
            let pick = Int(noise[i % noise.count])
            if pick < 16 {
                out.append(contentsOf: noise[(i * 7) % 4000 ..< (i * 7) % 4000 + pick + 1])
            } else {
                out.append(contentsOf: words[pick % words.count])
            }
            i += 1
        }
        out.removeSubrange(count...)
        return out
    }
}
