import FuzzSupport
@testable import OCICore
import OCILayer
#if canImport(Glibc)
import Glibc
#endif

// Unpacker.unpack of a fuzzed single-layer tar (any compression) into a
// fresh directory, with small limits, through OCILayer's public API only.
// Properties: no trap or hang, and nothing is created outside the target:
// the target sits at cage/a/b/root, and after each run cage/ must hold
// exactly a/, a/b/ and a/b/root/.

let cage = Fuzz.scratch + "/cage"
let target = cage + "/a/b/root"
let options = UnpackOptions(limits: UnionLimits(maxBytes: 4 << 20, maxEntries: 2000), sameOwner: false, rootless: true)

/// Paths under `dir`, relative, not following symlinks.
func walk(_ dir: String, _ prefix: String = "", into out: inout [String]) {
    guard let names = try? FS.listDirectory(dir) else { return }
    for n in names {
        let rel = prefix.isEmpty ? n : prefix + "/" + n
        out.append(rel)
        var st = stat()
        if lstat(dir + "/" + n, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR && rel != "a/b/root" {
            walk(dir + "/" + n, rel, into: &out)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnpack(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let layer = Fuzz.write(UnsafeRawBufferPointer(start: data, count: size), to: "layer.tar")
    FS.removeTree(cage)
    do { try FS.makeDirectories(cage + "/a/b") } catch { Fuzz.fail("cannot make \(cage): \(error)") }
    _ = try? Unpacker.unpack([LayerSource(path: layer, name: "fuzz layer")], into: target, options: options)
    var seen: [String] = []
    walk(cage, into: &seen)
    let outside = seen.filter { !["a", "a/b", "a/b/root"].contains($0) }
    Fuzz.check(outside.isEmpty, "unpack wrote outside its target: \(outside)")
    // Nothing beside the scratch files either.
    let scratch = (try? FS.listDirectory(Fuzz.scratch)) ?? []
    Fuzz.check(Set(scratch).isSubset(of: ["cage", "layer.tar"]), "unpack wrote into the scratch directory: \(scratch)")
    FS.removeTree(cage)
    return 0
}

@_cdecl("fuzz_unpack_main")
public func fuzzUnpackMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzUnpack)
}
