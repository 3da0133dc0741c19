import Foundation
import Testing
import OCICore
import OCIModel

@Suite struct ConfigChangeTests {
    @Test(arguments: [
        (#"CMD ["nginx", "-g", "daemon off;"]"#, ConfigChange.cmd(["nginx", "-g", "daemon off;"])),
        ("CMD echo hi there", .cmd(["/bin/sh", "-c", "echo hi there"])),
        (#"ENTRYPOINT ["/init"]"#, .entrypoint(["/init"])),
        ("cmd [not json", .cmd(["/bin/sh", "-c", "[not json"])),
        (#"ENV A=1 B="two words""#, .env([("A", "1"), ("B", "two words")])),
        ("ENV PATH /usr/bin:/bin", .env([("PATH", "/usr/bin:/bin")])),
        ("EXPOSE 80 443/udp", .expose(["80/tcp", "443/udp"])),
        (#"LABEL a=b "c d"=e"#, .label([("a", "b"), ("c d", "e")])),
        ("USER 1000:1000", .user("1000:1000")),
        ("WORKDIR /srv", .workdir("/srv")),
        (#"VOLUME ["/data", "/logs"]"#, .volume(["/data", "/logs"])),
        ("VOLUME /a /b", .volume(["/a", "/b"])),
        ("STOPSIGNAL SIGTERM", .stopSignal("SIGTERM")),
        ("ONBUILD RUN make", .onBuild("RUN make")),
    ])
    func parses(line: String, expected: ConfigChange) throws {
        #expect(try ConfigChange(parsing: line) == expected)
    }

    @Test(arguments: ["RUN make", "EXPOSE http", "ENV", "LABEL novalue", "ONBUILD FROM x", #"ENV A="unterminated"#, "USER"])
    func rejects(line: String) {
        #expect(throws: ModelError.self) { try ConfigChange(parsing: line) }
    }

    @Test func editorKeepsUnknownFieldsAndAppends() throws {
        let base = #"{"architecture":"amd64","os":"linux","x-unknown":{"keep":[1,2]},"config":{"Env":["PATH=/bin","A=0"],"WorkingDir":"/srv"},"rootfs":{"type":"layers","diff_ids":["sha256:\#(String(repeating: "a", count: 64))"]},"history":[{"created_by":"base"}]}"#
        var e = try ConfigEditor(bytes: Array(base.utf8))
        e.apply(try ConfigChange(parsing: "ENV A=1"))
        e.apply(try ConfigChange(parsing: "WORKDIR app"))
        e.appendDiffID(try Digest(sha256Hex: String(repeating: "b", count: 64)))
        e.appendHistory(ImageConfig.History(created: "2024-01-01T00:00:00Z", createdBy: "ocitool commit", author: "me", comment: "msg", emptyLayer: nil))
        e.setCreated("2024-01-01T00:00:00Z", author: "me")
        let out = try e.bytes()
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains(#""x-unknown":{"keep":[1,2]}"#))
        let cfg = try ImageConfig.parse(out, what: "t")
        #expect(cfg.diffIDs.count == 2)
        #expect(cfg.history?.count == 2)
        #expect(cfg.history?.last?.comment == "msg")
        #expect(cfg.author == "me")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])
        let c = try #require(obj["config"] as? [String: Any])
        #expect(c["Env"] as? [String] == ["PATH=/bin", "A=1"])
        #expect(c["WorkingDir"] as? String == "/srv/app")
        // Deterministic: same edits, same bytes.
        var e2 = try ConfigEditor(bytes: Array(base.utf8))
        e2.apply(try ConfigChange(parsing: "ENV A=1"))
        e2.apply(try ConfigChange(parsing: "WORKDIR app"))
        e2.appendDiffID(try Digest(sha256Hex: String(repeating: "b", count: 64)))
        e2.appendHistory(ImageConfig.History(created: "2024-01-01T00:00:00Z", createdBy: "ocitool commit", author: "me", comment: "msg", emptyLayer: nil))
        e2.setCreated("2024-01-01T00:00:00Z", author: "me")
        #expect(try e2.bytes() == out)
    }

    @Test func sourceDateEpochFixesTimestamps() {
        #expect(ConfigEditor.timestamp(environment: ["SOURCE_DATE_EPOCH": "1704067200"]) == "2024-01-01T00:00:00Z")
    }
}

@Test func entrypointWithoutCmdResetsCmdLikeDocker() throws {
    let base = #"{"config":{"Cmd":["sh"],"Entrypoint":null}}"#
    var e = try ConfigEditor(bytes: Array(base.utf8))
    e.apply([try ConfigChange(parsing: #"ENTRYPOINT ["/init"]"#)])
    let obj = try #require(try JSONSerialization.jsonObject(with: Data(try e.bytes())) as? [String: Any])
    let c = try #require(obj["config"] as? [String: Any])
    #expect(c["Cmd"] is NSNull)
    #expect(c["Entrypoint"] as? [String] == ["/init"])
    var both = try ConfigEditor(bytes: Array(base.utf8))
    both.apply([try ConfigChange(parsing: #"ENTRYPOINT ["/init"]"#), try ConfigChange(parsing: "CMD run")])
    let o2 = try #require(try JSONSerialization.jsonObject(with: Data(try both.bytes())) as? [String: Any])
    #expect((o2["config"] as? [String: Any])?["Cmd"] as? [String] == ["/bin/sh", "-c", "run"])
}
