import Foundation
import Testing
import OCIFormat

/// docker's inspect: the typed struct first, then the raw map with missingkey=error.
@Test(arguments: [
    ("{{.Id}}", "sha256:abc"),
    ("{{.Config.Labels.zz}}|{{index .Config.Labels \"zz\"}}|{{.Config.Labels.a}}", "<no value>||1"),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{.RootFS}}", "{[sha256:1 sha256:2] layers}"),
    ("{{json .RootFS}}", #"{"Layers":["sha256:1","sha256:2"],"Type":"layers"}"#),
    ("{{range .RootFS.Layers}}{{println .}}{{end}}", "sha256:1\nsha256:2\n"),
    ("{{.Config.Cmd}}", "<nil>"),
])
func inspectFormats(template: String, expected: String) throws {
    #expect(try DockerInspect.render(Template(template), raw: inspectDoc) == expected)
}

@Test func inspectErrorsComeFromTheRawFallback() throws {
    #expect(errorMessage { try DockerInspect.render(Template("{{.Nope}}"), raw: inspectDoc) }
        == #"template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope""#)
    #expect(errorMessage { try DockerInspect.render(Template("{{.Config.Cmd.X}}"), raw: inspectDoc) }
        == #"template: :1:9: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X"#)
    let typed = DockerInspect.typedView(of: inspectDoc)
    #expect(errorMessage { try Template("{{.Nope}}").render(typed) }
        == #"template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in type struct"#)
    let volumes = DockerInspect.typedView(of: .map(["Volumes": .map(["/data": .map([:])])]))
    #expect(try Template("{{.Volumes}} [{{index .Volumes \"/x\"}}]").render(volumes) == "map[/data:{}] [{}]")
}
