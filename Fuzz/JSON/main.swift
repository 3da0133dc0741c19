import Foundation
import FuzzSupport
@testable import OCICore
import OCIModel

// The JSON models and the string parsers on fuzzed bytes. Properties: no
// trap; what parses, prints and parses again to the same value; canonical
// JSON is a fixed point (encode(decode(encode(x))) == encode(x)).

func canonicalFixedPoint(_ bytes: [UInt8]) {
    guard let object = try? CanonicalJSON.object(from: bytes, what: "fuzz"),
          let once = try? CanonicalJSON.encode(object: object) else { return }
    guard let again = try? CanonicalJSON.object(from: once, what: "fuzz re-read") else {
        Fuzz.fail("canonical JSON does not parse again: \(String(decoding: once.prefix(200), as: UTF8.self))")
    }
    guard let twice = try? CanonicalJSON.encode(object: again) else { Fuzz.fail("canonical JSON does not encode again") }
    Fuzz.check(once == twice, "canonical JSON is not stable:\n\(String(decoding: once.prefix(300), as: UTF8.self))\n\(String(decoding: twice.prefix(300), as: UTF8.self))")
}

func documents(_ bytes: [UInt8]) {
    if let m = try? Manifest.parse(bytes, what: "manifest") {
        // What we encode must decode to the same manifest.
        if let out = try? CanonicalJSON.encode(m) {
            guard let back = try? Manifest.parse(out, what: "re-encoded manifest") else { Fuzz.fail("an encoded manifest does not parse") }
            Fuzz.check(back == m, "manifest changed in a round trip")
        }
    }
    if let i = try? IndexManifest.parse(bytes, what: "index") {
        if let out = try? CanonicalJSON.encode(i) {
            guard let back = try? IndexManifest.parse(out, what: "re-encoded index") else { Fuzz.fail("an encoded index does not parse") }
            Fuzz.check(back == i, "index changed in a round trip")
        }
    }
    _ = try? ImageConfig.parse(bytes, what: "config")
    _ = try? DockerManifestEntry.parseList(bytes)
    if var editor = try? ConfigEditor(bytes: bytes) {
        editor.apply([.cmd(["/bin/sh"]), .env([("A", "1")]), .label([("k", "v")]), .expose(["80/tcp"])])
        if let d = try? Digest(sha256Hex: String(repeating: "a", count: 64)) { editor.appendDiffID(d) }
        editor.setCreated("2024-01-01T00:00:00Z", author: "fuzz")
        if let out = try? editor.bytes() {
            Fuzz.check((try? ConfigEditor(bytes: out)) != nil, "an edited config does not parse again")
        }
    }
}

func strings(_ text: String) {
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(64).map(String.init) {
        if let r = try? ImageReference(parsing: line) {
            guard let again = try? ImageReference(parsing: r.description) else { Fuzz.fail("reference \(line.debugDescription) prints as \(r.description.debugDescription), which does not parse") }
            // `description` prints the tag when there are both (documented):
            // the digest survives only a tagless reference.
            Fuzz.check(again.name == r.name && again.tag == r.tag && (r.tag != nil || again.digest == r.digest),
                       "reference \(line.debugDescription): \(r) re-parses as \(again)")
        }
        if let d = try? Digest(parsing: line) {
            Fuzz.check((try? Digest(parsing: d.description)) == d, "digest \(line.debugDescription) does not round-trip")
        }
        if let p = try? Platform(parsing: line) {
            Fuzz.check((try? Platform(parsing: p.description)) == p, "platform \(line.debugDescription) does not round-trip")
        }
        if let c = try? ConfigChange(parsing: line) {
            _ = c == c
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
    canonicalFixedPoint(bytes)
    documents(bytes)
    strings(String(decoding: bytes, as: UTF8.self))
    return 0
}

@_cdecl("fuzz_json_main")
public func fuzzJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.main(argc, argv, fuzzJSON)
}
