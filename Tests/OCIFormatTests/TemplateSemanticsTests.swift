import Foundation
import Testing
import OCIFormat

/// Expected outputs follow Go's text/template documentation and docker's
/// documented `--format` examples.
@Test(arguments: [
    ("{{.Repository}}:{{.Tag}}", "busybox:latest"),
    ("{{.ID}}\t{{.Size}}", "0a71740239f9\t43.5kB"),
    ("{{.Tag | upper}} {{upper .Repository}}", "LATEST BUSYBOX"),
    ("{{.}}", "{0a71740239f9 busybox latest 43.5kB N/A}"),
    ("{{printf \"%+v\" .}}", "{ID:0a71740239f9 Repository:busybox Tag:latest Size:43.5kB Containers:N/A}"),
    ("{{with .Tag}}[{{.}}]{{end}}", "[latest]"),
])
func structRows(template: String, expected: String) throws {
    #expect(try render(template, imageRow) == expected)
}

@Test(arguments: [
    ("{{index .RepoTags 0}}", "busybox:latest"),
    ("{{range .RootFS.Layers}}{{println .}}{{end}}", "sha256:1\nsha256:2\n"),
    ("{{join .RepoTags \",\"}}", "busybox:latest,busybox:1.36"),
    ("{{json .Config}}", #"{"Cmd":null,"Env":["PATH=/bin"],"Labels":{"a":"1","b":"2"},"Tty":false}"#),
    ("{{json .RepoTags}}", #"["busybox:latest","busybox:1.36"]"#),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{.RepoTags}}", "[busybox:latest busybox:1.36]"),
    ("{{.Config.Cmd}}", "<nil>"),
    ("{{.Nope}}", "<no value>"),
    ("{{.Nope.Deeper}}", "<no value>"),
    ("{{index .Config.Labels \"zz\"}}", "<no value>"),
    ("{{.Size}} {{.Ratio}} {{.Config.Tty}}", "43500 1.5 false"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"),
    ("{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}", "0:busybox:latest 1:busybox:1.36 "),
    ("{{range $t := .RepoTags}}<{{$t}}>{{end}}", "<busybox:latest><busybox:1.36>"),
    ("{{range .Empty}}x{{else}}none{{end}}", "none"),
    ("{{range .Nope}}x{{else}}missing{{end}}", "missing"),
    ("{{range .Config.Cmd}}x{{else}}nil{{end}}", "nil"),
    ("{{range .RepoTags}}{{$.Id}} {{end}}", "sha256:abc sha256:abc "),
    ("{{with .Config}}{{.Env}}{{end}}", "[PATH=/bin]"),
    ("{{with .Nope}}x{{else}}no{{end}}", "no"),
    ("{{with .Empty}}x{{else with .Id}}{{.}}{{end}}", "sha256:abc"),
    ("{{len .RepoTags}} {{len .Config.Labels}} {{len .Id}} {{len .Config.Cmd}}", "2 2 10 0"),
    ("{{slice .RepoTags 1}}", "[busybox:1.36]"),
    ("{{(index .RepoTags 1)}} {{(.Config).Env}}", "busybox:1.36 [PATH=/bin]"),
    ("{{printf \"%s-%d\" (index .RepoTags 0) (len .L)}}", "busybox:latest-4"),
    ("{{range $i, $e := .L}}{{if eq $i 2}}{{break}}{{end}}{{$e}}{{end}}", "ab"),
    ("{{range $i, $e := .L}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}", "acd"),
    ("{{range .L}}{{range $.Empty}}{{else}}{{continue}}{{end}}{{.}}{{end}}", ""),
    ("{{range .L}}{{range $.Empty}}{{else}}{{break}}{{end}}{{.}}{{end}}", "abcd"),
])
func mapDocuments(template: String, expected: String) throws {
    #expect(try render(template, inspectDoc) == expected)
}

@Test(arguments: [
    ("a  {{- 1 -}}  b", "a1b"),
    ("a \n\t{{- 1}} b", "a1 b"),
    ("a {{1 -}} \n b", "a 1b"),
    ("a {{- /* gone */ -}} b", "ab"),
    ("x{{/* a\nmulti-line comment */}}y", "xy"),
    ("{{-3}}", "-3"),
    ("{{ -3 }}", "-3"),
    ("{{\"a\\tb\\u00e9\\x41\\101\"}}", "a\tbéAA"),
    ("{{`raw\\n`}}", "raw\\n"),
    ("{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{'a'}} {{'\\n'}}", "31 15 15 5 1000 97 10"),
    ("{{1.5}} {{1e3}} {{1e6}} {{100000.0}} {{0.00001}} {{0.0001}} {{-2.50}}", "1.5 1000 1e+06 100000 1e-05 0.0001 -2.5"),
    ("{{true}} {{false}}", "true false"),
    ("{{if true}}a{{else}}b{{end}}{{if 0}}a{{else}}b{{end}}", "ab"),
    ("{{if \"\"}}a{{else if 0}}b{{else if 1.5}}c{{else}}d{{end}}", "c"),
    ("{{if and 1 0}}a{{else if or 0 \"\"}}b{{else}}c{{end}}", "c"),
    ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
    ("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21"),
    ("{{with $x := \"output\" | printf \"%q\"}}{{$x}}{{end}}", "\"output\""),
    ("{{\"put\" | printf \"%s%s\" \"out\" | printf \"%q\"}}", "\"output\""),
    ("{{$x := \"a\"}}{{$x = print $x \"b\"}}{{$x}}", "ab"),
    ("{{range 3}}{{.}}{{end}}{{range 0}}x{{else}}none{{end}}", "012none"),
    ("{{define \"T\"}}<{{.}}>{{end}}{{template \"T\" \"x\"}}{{template \"T\"}}", "<x><<no value>>"),
    ("{{block \"B\" \"in\"}}[{{.}}]{{end}}", "[in]"),
    ("{{define \"T\"}}{{$}}{{end}}{{$x := 1}}{{template \"T\" 2}}", "2"),
    ("{{.X |}}", "<nil>"),
])
func language(template: String, expected: String) throws {
    #expect(try render(template, ["X": nil]) == expected)
}

@Test func missingKeyOptions() throws {
    let data: TemplateValue = .map(["a": "1"], elementZero: "")
    #expect(try render("{{.b}}", data) == "<no value>")
    #expect(try render("[{{.b}}]", data, options: TemplateOptions(missingKey: .zero)) == "[]")
    #expect(try render("[{{index . \"b\"}}]", data) == "[]")
    let strict = TemplateOptions(missingKey: .error)
    #expect(errorMessage { try render("{{.b}}", data, options: strict) }
        == #"template: :1:2: executing "" at <.b>: map has no entry for key "b""#)
}

@Test func elseIfChainsShareVariables() throws {
    #expect(try render("{{if $x := 0}}a{{else if $y := 1}}{{$x}}{{$y}}{{end}}") == "01")
    #expect(try render("{{with $x := .A}}{{$x}}{{else with $y := .B}}{{$y}}{{end}}", ["B": "b"]) == "b")
    #expect(errorMessage { try render("{{if 0}}{{$z := 1}}{{else}}{{$z}}{{end}}") }
        == #"template: :1:29: executing "" at <$z>: undefined variable: $z"#)
}

@Test func valueTreeAPI() throws {
    var object = TemplateObject(structure: "row", fields: [("B", "1"), ("A", "2"), ("B", "3")])
    #expect(object.keys == ["B", "A"])
    #expect(object["B"] == "3")
    object.set("C", 4)
    #expect(object.keys == ["B", "A", "C"])
    var map = TemplateObject(map: ["b": 1, "a": 2])
    map.set("ab", 3)
    #expect(map.keys == ["a", "ab", "b"])
    #expect(TemplateValue.object(map).goTypeName == "map[string]interface {}")
    #expect(TemplateValue.map([:], elementZero: "").goTypeName == "map[string]string")
    #expect(TemplateValue.structure("x", []).isTruthy)
    #expect(!TemplateValue.map([:]).isTruthy)

    let decoded = try TemplateValue(json: Data(#"{"b":true,"i":7,"d":2.5,"s":"x","n":null,"a":[1,"y"],"o":{}}"#.utf8))
    #expect(decoded == .map(["b": true, "i": 7, "d": 2.5, "s": "x", "n": nil, "a": [1, "y"], "o": .map([:])]))
    #expect(errorMessage { try TemplateValue(json: Data("{".utf8)) }?.hasPrefix("template data: not valid JSON") == true)

    struct Config: Encodable { let Env: [String]; let User: String }
    let encoded = try TemplateValue(encoding: Config(Env: ["A=1"], User: "root"))
    #expect(try render("{{.User}} {{index .Env 0}} {{json .}}", encoded) == #"root A=1 {"Env":["A=1"],"User":"root"}"#)
}

@Test func functionsMayThrowAnyError() throws {
    struct Oops: Error, CustomStringConvertible { var description: String { "oops" } }
    let failing = TemplateFunction("fail", parameters: []) { _ in throw Oops() }
    let template = try Template("{{fail}}", functions: .docker.adding([failing]))
    #expect(errorMessage { try template.render(.null) } == #"template: :1:2: executing "" at <fail>: error calling fail: oops"#)
}
