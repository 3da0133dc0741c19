import CLinux

/// How the process allocates: set once, at startup, by the command line.
package enum AllocationPolicy {
    /// Buffers of 128 KiB and up (per blob and per worker) are mapped and
    /// unmapped on their own. glibc otherwise raises that threshold after
    /// the first such free and keeps later buffers in its per-thread arenas:
    /// 3-4 MB of a load's peak RSS that nothing reuses.
    package static func mapLargeBuffers() {
        ocitool_map_allocations_from(128 << 10)
    }
}
