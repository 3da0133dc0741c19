import Foundation

/// Time-zone abbreviations (`CET`, `EST`, `+04`) read from the system's tz
/// database files (`/usr/share/zoneinfo`, TZif format), as Go's `time`
/// package does; Foundation on Linux only offers `GMT+1`-style names.
enum ZoneAbbreviation {
    /// Largest zone file read; real ones are a few kilobytes.
    private static let maxFileSize = 1 << 20

    /// The abbreviation in effect in `zone` at `date`, or `nil` when the zone
    /// has no readable tz file.
    /// - Parameter identifier: the tz file to read instead of the zone's
    ///   identifier (Foundation reports `TZ=UTC` as `GMT`; Go reads `UTC`).
    static func name(of zone: TimeZone, at date: Date, directory: String = "/usr/share/zoneinfo", identifier: String? = nil) -> String? {
        let id = identifier ?? zone.identifier
        guard !id.isEmpty, !id.contains(".."), !id.hasPrefix("/"),
              id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/_+-".unicodeScalars.contains($0)) }),
              let data = FileManager.default.contents(atPath: directory + "/" + id), data.count <= maxFileSize
        else { return nil }
        return name(inTZif: [UInt8](data), offset: zone.secondsFromGMT(for: date), isDST: zone.isDaylightSavingTime(for: date),
                    at: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    /// Picks, among the file's local time types with this UTC offset and DST
    /// flag, the one used by the latest transition at or before `time`.
    static func name(inTZif bytes: [UInt8], offset: Int, isDST: Bool, at time: Int64) -> String? {
        guard let block = TZifBlock(bytes) else { return nil }
        var best: Int?
        var bestAny: Int?
        for (i, type) in block.transitionTypes.enumerated() where block.matches(type, offset: offset, isDST: isDST) {
            bestAny = type
            if block.transitionTimes[i] <= time { best = type }
        }
        let chosen = best ?? bestAny ?? (0..<block.typeCount).first { block.matches($0, offset: offset, isDST: isDST) }
        return chosen.flatMap(block.abbreviation)
    }
}

/// The data block of a TZif file (the 64-bit one when present).
private struct TZifBlock {
    let transitionTimes: [Int64]
    let transitionTypes: [Int]
    let typeCount: Int
    private let types: ArraySlice<UInt8>
    private let chars: ArraySlice<UInt8>

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 44, bytes[0..<4].elementsEqual(Array("TZif".utf8)) else { return nil }
        guard let first = TZifBlock.counts(bytes, at: 0) else { return nil }
        var start = 44
        var timeSize = 4
        var counts = first
        if bytes[4] >= UInt8(ascii: "2") {
            let next = 44 + TZifBlock.length(counts, timeSize: 4)
            guard let second = TZifBlock.counts(bytes, at: next) else { return nil }
            (start, timeSize, counts) = (next + 44, 8, second)
        }
        let (timeCount, typeCount, charCount) = (counts[3], counts[4], counts[5])
        let typesStart = start + timeCount * timeSize + timeCount
        guard typesStart + typeCount * 6 + charCount <= bytes.count else { return nil }
        var times: [Int64] = []
        for i in 0..<timeCount {
            var v: UInt64 = 0
            for b in bytes[(start + i * timeSize)..<(start + (i + 1) * timeSize)] { v = v << 8 | UInt64(b) }
            times.append(timeSize == 8 ? Int64(bitPattern: v) : Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: v))))
        }
        transitionTimes = times
        transitionTypes = bytes[(start + timeCount * timeSize)..<typesStart].map(Int.init).filter { $0 < typeCount }
        self.typeCount = typeCount
        types = bytes[typesStart..<(typesStart + typeCount * 6)]
        chars = bytes[(typesStart + typeCount * 6)..<(typesStart + typeCount * 6 + charCount)]
    }

    /// The six counts of a header (isut, isstd, leap, time, type, char), bounded.
    private static func counts(_ bytes: [UInt8], at offset: Int) -> [Int]? {
        guard offset >= 0, offset + 44 <= bytes.count, bytes[offset..<(offset + 4)].elementsEqual(Array("TZif".utf8)) else { return nil }
        var out: [Int] = []
        for n in 0..<6 {
            let p = offset + 20 + n * 4
            let v = bytes[p..<(p + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard v <= 1 << 20 else { return nil }
            out.append(v)
        }
        return out
    }

    private static func length(_ c: [Int], timeSize: Int) -> Int {
        c[3] * timeSize + c[3] + c[4] * 6 + c[5] + c[2] * (timeSize + 4) + c[1] + c[0]
    }

    func matches(_ type: Int, offset: Int, isDST: Bool) -> Bool {
        let p = types.startIndex + type * 6
        guard type < typeCount else { return false }
        let utoff = Int(Int32(bitPattern: types[p..<(p + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
        return utoff == offset && (types[p + 4] != 0) == isDST
    }

    func abbreviation(_ type: Int) -> String? {
        guard type < typeCount else { return nil }
        let index = Int(types[types.startIndex + type * 6 + 5])
        guard index < chars.count else { return nil }
        let start = chars.startIndex + index
        let end = chars[start...].firstIndex(of: 0) ?? chars.endIndex
        let name = String(decoding: chars[start..<end], as: UTF8.self)
        return name.isEmpty ? nil : name
    }
}
