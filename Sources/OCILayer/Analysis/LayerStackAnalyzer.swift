import OCICore
import OCIModel

/// Reads an image's layers once, bottom first, and follows the union view
/// as it builds: every member is applied with the rules `UnionIndex` and
/// `LayerApplier` apply (whiteouts, opaque directories, same-layer
/// protection, implicit parents, symlinked parents resolved inside the
/// root, hard links), while a journal per layer remembers what each touched
/// path was before the layer, so the layer's change set, what each marker
/// hid, and which written bytes end up hidden fall out of the one pass.
/// File contents are hashed while streaming (a content change is told from
/// a metadata-only change); no file data is kept. Memory grows with the
/// number of paths and members, never with file sizes.
public final class LayerStackAnalyzer {
    final class Node {
        let path: Int32
        let name: String
        var version: Int32
        var children: [String: Node] = [:]
        weak var parent: Node?
        /// The last layer that wrote this node or something below it;
        /// whenever a node has the current layer, so do its ancestors.
        var touched: Int

        init(path: Int32, name: String, version: Int32, parent: Node?, touched: Int) {
            self.path = path
            self.name = name
            self.version = version
            self.parent = parent
            self.touched = touched
        }
    }

    struct Version {
        var path: Int32
        var layer: Int32
        var facts: FileFacts
        var memberKind: TarEntry.Kind
        var dataSize: Int64
        /// The member's own header size, as dive counts it.
        var diveSize: Int64
        var inode: Int32 = -1
        var hardLinkTarget: Int32 = -1
        var implicit = false
        var hiddenBy: Int32 = -1
    }

    struct Inode {
        var version: Int32
        var size: Int64
        var liveRefs: Int32 = 0
        var deadAt: Int32 = -1
    }

    struct Before {
        var version: Int32
        var deletion: Int32 = -1
    }

    let input: AnalysisInput
    let meter: LimitMeter
    let skipUnsafe: Bool
    let warn: (String) -> Void
    var paths = AnalysisPathTable()
    var versions: [Version] = []
    var inodes: [Inode] = []
    /// The live node of each path index, nil when the path is not in the union.
    var live: [Node?] = []
    let root: Node
    var dive = DiveAccumulator()

    // State of the layer being read.
    var layer = 0
    var journal: [Int32: Before] = [:]
    var deletions: [Deletion] = []
    var reports: [LayerReport] = []

    /// Prepares an analysis of `input`.
    /// - Parameters:
    ///   - limits: `--max-bytes` / `--max-entries` bounds over the whole stack.
    ///   - skipUnsafe: warn about unsafe entries and leave them out instead of failing.
    public init(_ input: AnalysisInput, limits: UnionLimits = .defaults, skipUnsafe: Bool = false,
                warn: @escaping (String) -> Void = { _ in }) {
        self.input = input
        meter = LimitMeter(limits)
        self.skipUnsafe = skipUnsafe
        self.warn = warn
        let rootFacts = FileFacts(header: TarEntry(path: "", kind: .directory, mode: 0o755), digest: nil)
        versions.append(Version(path: AnalysisPathTable.root, layer: -1, facts: rootFacts, memberKind: .directory,
                                dataSize: 0, diveSize: 0, implicit: true))
        root = Node(path: AnalysisPathTable.root, name: "", version: 0, parent: nil, touched: -1)
        live = [root]
    }

    /// Reads every layer once and returns the analysis.
    /// - Throws: `LayerError` for unsafe or invalid entries and exceeded
    ///   limits, `CoreError` for unreadable layers.
    public func run() throws -> ImageAnalysis {
        let history = input.layerHistory
        for (index, layerInput) in input.layers.enumerated() {
            try read(layerInput, index: index, history: history[index])
        }
        return finish()
    }

    /// Convenience: analyses `input` in one call.
    public static func analyze(_ input: AnalysisInput, limits: UnionLimits = .defaults, skipUnsafe: Bool = false,
                               warn: @escaping (String) -> Void = { _ in }) throws -> ImageAnalysis {
        try LayerStackAnalyzer(input, limits: limits, skipUnsafe: skipUnsafe, warn: warn).run()
    }

    private func read(_ layerInput: AnalysisInput.Layer, index: Int, history: ImageConfig.History?) throws {
        layer = index
        journal.removeAll(keepingCapacity: true)
        deletions = []
        dive.beginLayer()
        let reader = try layerInput.source.open()
        var entries = 0
        var size: Int64 = 0
        while let entry = try reader.next() {
            entries += 1
            let ctx = EntryContext(layer: layerInput.source.name, entry: entry.path)
            try meter.countEntry(ctx)
            // Indices are 32-bit; one member adds far fewer than a million paths (its components).
            if versions.count > Int(Int32.max) - 1_000_000 || paths.count > Int(Int32.max) - 1_000_000 {
                throw LayerError.limitExceeded(layer: ctx.layer, entry: ctx.entry, what: "number of paths",
                                               limit: Int64(Int32.max) - 1_000_000, flag: "--max-entries")
            }
            do {
                let member = try LayerMember.classify(entry, ctx)
                dive.member(entry, member, analyzer: self, ctx)
                try apply(entry, member, reader: reader, ctx)
                if entry.kind == .regular, case .entry = member { size +|= entry.size }
            } catch let e as LayerError where e.isUnsafeEntry && skipUnsafe {
                warn("skipped: \(e)")
            }
        }
        dive.endLayer(index: index)
        reports.append(changeSet(layerInput, index: index, history: history, entries: entries, size: size))
    }
}
