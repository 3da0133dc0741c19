import Testing
import OCIModel

/// Normalisation follows the docker CLI (distribution/reference ParseNormalizedNamed).
@Test(arguments: [
    ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
    ("myuser/app:v2", "docker.io/myuser/app:v2", "myuser/app:v2"),
    ("docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest"),
    ("index.docker.io/library/alpine:3", "docker.io/library/alpine:3", "alpine:3"),
    ("localhost/foo:bar", "localhost/foo:bar", "localhost/foo:bar"),
    ("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"),
    ("quay.io/org/img", "quay.io/org/img:latest", "quay.io/org/img:latest"),
    ("docker.io/library/a/b:1", "docker.io/library/a/b:1", "library/a/b:1"),
])
func normalises(input: String, full: String, familiar: String) throws {
    let r = try ImageReference(parsing: input)
    #expect(r.description == full)
    #expect(r.familiarString == familiar)
}

@Test func digestReference() throws {
    let hex = String(repeating: "ab", count: 32)
    let r = try ImageReference(parsing: "busybox@sha256:\(hex)")
    #expect(r.tag == nil)
    #expect(r.digest?.encoded == hex)
    #expect(r.description == "docker.io/library/busybox@sha256:\(hex)")
}

@Test(arguments: ["Busybox/App", "busybox:", "busybox:-bad", "a//b", "-a/b", "busybox@sha256:xyz", "ex ample"])
func rejects(input: String) {
    #expect(throws: (any Error).self) { try ImageReference(parsing: input) }
}

@Test func uppercaseRepositoryMessage() {
    do {
        _ = try ImageReference(parsing: "docker.io/Busybox")
        Issue.record("expected an error")
    } catch {
        #expect("\(error)".contains("must be lowercase"))
    }
}

@Test func platformParsingAndMatching() throws {
    let p = try Platform(parsing: "linux/arm64")
    #expect(p.description == "linux/arm64")
    #expect(Platform(os: "linux", architecture: "arm64", variant: "v8").matches(p))
    #expect(!Platform(os: "linux", architecture: "amd64").matches(p))
    #expect(Platform(os: "linux", architecture: "arm64").matches(try Platform(parsing: "linux/arm64/v8")))
    #expect(throws: ModelError.self) { try Platform(parsing: "linux") }
}
