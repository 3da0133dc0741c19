import OCICore

/// Streams the union view of a layer stack as one tar: what `Unpacker`
/// would leave in a directory, with no whiteouts, hard links pointing at a
/// surviving member of their group (or the content written again under a
/// surviving name when the original path was deleted or replaced).
///
/// Two passes: `UnionIndex` reads every layer once and keeps only headers
/// (memory bounded by the number of paths); then each layer that still
/// contributes something is read again and its surviving members are
/// written in layer order, data streamed in the reader's blocks.
///
/// Directories come last, parents first: layer order visits a directory
/// again whenever a later layer adds to it, and an extractor that sets a
/// directory's time when it leaves it (GNU tar) would otherwise end with
/// the extraction time. Extractors make the missing parents of the earlier
/// members themselves, then the directory entries set owner, mode, xattrs
/// and time once nothing more is written into them.
public enum UnionExporter {
    /// What an export wrote.
    public struct Report: Sendable, Equatable {
        /// Members written.
        public var entries = 0
        /// File data bytes written.
        public var bytes: Int64 = 0
        /// Members of the layers read (first pass).
        public var layerEntries: Int64 = 0
        /// Unsafe entries skipped with `skipUnsafe`.
        public var skippedUnsafe: [String] = []
        /// Sockets and unknown member types left out.
        public var skippedOther = 0
        /// Tree steps of the index (tests check that it grows linearly).
        var steps = 0
    }

    /// Writes the merged file system of `layers` into `sink` as a tar
    /// stream (finished at the end).
    /// - Throws: `LayerError` for unsafe or invalid entries and limits,
    ///   `CoreError` for unreadable layers or a failing sink.
    @discardableResult
    public static func export(_ layers: [LayerSource], to sink: ByteSink, name: String = "export",
                              limits: UnionLimits = .defaults, skipUnsafe: Bool = false,
                              warn: (String) -> Void = { _ in }) throws -> Report {
        try export(layers, to: sink, name: name, limits: limits, skipUnsafe: skipUnsafe,
                   readAheadBudget: UnionIndex.readAheadBudget, warn: warn)
    }

    /// `export`, with the upper layers' first pass read ahead within
    /// `readAheadBudget` bytes of headers (0: on this thread only).
    static func export(_ layers: [LayerSource], to sink: ByteSink, name: String, limits: UnionLimits, skipUnsafe: Bool,
                       readAheadBudget: Int, warn: (String) -> Void) throws -> Report {
        let index = try UnionIndex(layers: layers, limits: limits, skipUnsafe: skipUnsafe, readAheadBudget: readAheadBudget, warn: warn)
        let writer = try TarWriter(sink: sink, name: name)
        var emitter = Emitter(writer: writer)
        for (i, layer) in layers.enumerated() {
            let plan = index.plan[i]
            guard !plan.isEmpty else { continue }
            let reader = try layer.open(limits: limits, inflateAhead: true)
            var ordinal = -1
            var k = 0
            while k < plan.count, let entry = try reader.next() {
                ordinal += 1
                while k < plan.count && plan[k].ordinal == ordinal {
                    let ctx = EntryContext(layer: layer.name, entry: entry.path)
                    switch plan[k].action {
                    case let .node(node):
                        guard entry.kind == node.header.kind else {
                            throw ctx.invalid("the layer changed between the two passes of the export")
                        }
                        if !node.emitted { try emitter.emit(node) }
                    case let .file(node):
                        guard entry.kind == .regular, entry.size == node.header.size else {
                            throw ctx.invalid("the layer changed between the two passes of the export")
                        }
                        try emitter.emit(file: node, [], reader)
                    case let .inode(inode):
                        guard let first = inode.live.first, entry.kind == .regular, entry.size == first.header.size else {
                            throw ctx.invalid("the layer changed between the two passes of the export")
                        }
                        try emitter.emit(file: first, inode.live.dropFirst(), reader)
                    }
                    k += 1
                }
            }
            if k < plan.count {
                throw LayerError.invalidEntry(layer: layer.name, entry: "-", reason: "the layer ended early in the second pass of the export")
            }
        }
        try index.walk { node in if !node.emitted { try emitter.emit(node) } }  // the directories
        try writer.finish()
        return Report(entries: emitter.entries, bytes: emitter.bytes, layerEntries: index.meter.entries,
                      skippedUnsafe: index.skippedUnsafe, skippedOther: index.skippedOther, steps: index.steps)
    }

    /// Writes nodes.
    struct Emitter {
        let writer: TarWriter
        var entries = 0
        var bytes: Int64 = 0

        mutating func emit(_ node: UnionIndex.Node) throws {
            var header = node.header
            header.path = node.path
            header.sparseRegions = nil
            if header.kind != .regular { header.size = 0 }
            try writer.writeHeader(header)
            node.emitted = true
            entries += 1
        }

        /// The content once, under the first surviving name; the other
        /// names as hard links to it.
        mutating func emit(file first: UnionIndex.Node, _ others: ArraySlice<UnionIndex.Node>, _ reader: TarReader) throws {
            var header = first.header
            header.path = first.path
            try writer.writeHeader(header)
            var written: Int64 = 0
            try reader.readDataBlocks { _, block in
                try writer.write(block)
                written += Int64(block.count)
            }
            bytes += written
            first.emitted = true
            entries += 1
            for other in others {
                var link = first.header
                link.path = other.path
                link.kind = .hardlink
                link.linkTarget = first.path
                link.size = 0
                link.sparseRegions = nil
                link.xattrs = []
                try writer.writeHeader(link)
                other.emitted = true
                entries += 1
            }
        }
    }
}
