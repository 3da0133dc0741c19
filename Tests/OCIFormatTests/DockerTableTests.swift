import Testing
import OCIFormat

private func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

/// docker/cli's image formatter: default table and header names.
private let imagesDefault = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
private let imageHeaders = [
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
]
private let images: [TemplateValue] = [
    .structure("image", [("ID", "0a71740239f9"), ("Repository", "busybox"), ("Tag", "latest"),
                         ("CreatedSince", "4 minutes ago"), ("Size", "43.5kB")]),
    .structure("image", [("ID", "1234567890ab"), ("Repository", "localhost/ocitool-test/podman-docker"), ("Tag", "v1"),
                         ("CreatedSince", ""), ("Size", "1.02kB")]),
]

@Test(arguments: [
    (nil, DockerFormat.defaultTable), ("", .defaultTable), ("table", .defaultTable), ("json", .json),
    ("table {{.ID}}", .table(" {{.ID}}")), ("table{{.ID}}", .table("{{.ID}}")), ("{{.ID}}", .template("{{.ID}}")),
    ("JSON", .template("JSON")),
] as [(String?, DockerFormat)])
func formatKinds(input: String?, expected: DockerFormat) {
    #expect(DockerFormat(input) == expected)
}

@Test func rowTemplates() {
    #expect(DockerFormat(nil).rowTemplate(defaultTable: "table {{.ID}}") == "{{.ID}}")
    #expect(DockerFormat("table  {{.ID}}\\t{{.Size}}  ").rowTemplate(defaultTable: "") == "{{.ID}}\t{{.Size}}")
    #expect(DockerFormat("{{.ID}}\\n{{.Tag}}").rowTemplate(defaultTable: "") == "{{.ID}}\n{{.Tag}}")
    #expect(DockerFormat("json").rowTemplate(defaultTable: "") == "{{json .}}")
}

@Test func defaultImagesTable() throws {
    let table = try DockerTable(format: nil, defaultTable: imagesDefault, headers: imageHeaders)
    // Widths: 36+3, max(10, 6+3), 12+3, 13+3; SIZE is the last cell.
    let expected = "REPOSITORY" + spaces(29) + "TAG" + spaces(7) + "IMAGE ID" + spaces(7) + "CREATED" + spaces(9) + "SIZE\n"
        + "busybox" + spaces(32) + "latest" + spaces(4) + "0a71740239f9" + spaces(3) + "4 minutes ago" + spaces(3) + "43.5kB\n"
        + "localhost/ocitool-test/podman-docker" + spaces(3) + "v1" + spaces(8) + "1234567890ab" + spaces(3) + "N/A" + spaces(13) + "1.02kB\n"
    #expect(try table.render(images) == expected)
    #expect(try table.render([]) == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n")
}

@Test func customTables() throws {
    let idSize = try DockerTable(format: "table {{.ID}}\\t{{.Size}}", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(try idSize.render(images) == "IMAGE ID       SIZE\n0a71740239f9   43.5kB\n1234567890ab   1.02kB\n")
    #expect(idSize.headerLine() == "IMAGE ID\tSIZE")
    let functions = try DockerTable(
        format: "table {{.Repository | upper}}\t{{truncate .ID 4}}\t{{pad .Tag 1 1}}|", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(try functions.render([images[0]]) == "REPOSITORY   IMAGE ID   " + " TAG |\nBUSYBOX      0a71       " + " latest |\n")
    let unknownHeader = try DockerTable(format: "table {{.ID}}\t{{.Extra}}", defaultTable: imagesDefault, headers: ["ID": "IMAGE ID"])
    let row: TemplateValue = .structure("image", [("ID", "abc"), ("Extra", "x")])
    #expect(try unknownHeader.render([row]) == "IMAGE ID   <no value>\nabc        x\n")
}

@Test func jsonAndTemplateModes() throws {
    let json = try DockerTable(format: "json", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(try json.render([images[0]])
        == #"{"CreatedSince":"4 minutes ago","ID":"0a71740239f9","Repository":"busybox","Size":"43.5kB","Tag":"latest"}"# + "\n")
    let plain = try DockerTable(format: "{{.Repository}}:{{.Tag}}", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(try plain.render(images) == "busybox:latest\nlocalhost/ocitool-test/podman-docker:v1\n")
    #expect(try plain.render([]) == "")
    #expect(plain.headerLine() == "")
    let quiet = try DockerTable(format: "{{.ID}}", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(try quiet.render(images) == "0a71740239f9\n1234567890ab\n")
}

@Test func historyTable() throws {
    let headers = ["ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
                   "Size": "SIZE", "Comment": "COMMENT"]
    let table = try DockerTable(format: nil, defaultTable: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}", headers: headers)
    let createdBy = "/bin/sh -c #(nop) ADD file:cc4f2ad18a378cc9b…"
    let rows: [TemplateValue] = [
        .structure("history", [("ID", "0a71740239f9"), ("CreatedSince", "4 minutes ago"), ("CreatedBy", "/bin/sh"),
                               ("Size", "1.02kB"), ("Comment", "FROM x")]),
        .structure("history", [("ID", "<missing>"), ("CreatedSince", "4 minutes ago"), ("CreatedBy", .string(createdBy)),
                               ("Size", "20.5kB"), ("Comment", "base import")]),
    ]
    // Widths: 12+3, 13+3, 45+3 (the ellipsis is one column), max(10, 6+3).
    let expected = "IMAGE" + spaces(10) + "CREATED" + spaces(9) + "CREATED BY" + spaces(38) + "SIZE" + spaces(6) + "COMMENT\n"
        + "0a71740239f9" + spaces(3) + "4 minutes ago" + spaces(3) + "/bin/sh" + spaces(41) + "1.02kB" + spaces(4) + "FROM x\n"
        + "<missing>" + spaces(6) + "4 minutes ago" + spaces(3) + createdBy + spaces(3) + "20.5kB" + spaces(4) + "base import\n"
    #expect(try table.render(rows) == expected)
}

@Test func errorsStopTheWholeOutput() throws {
    let table = try DockerTable(format: "table {{.ID}}\t{{.Nope}}", defaultTable: imagesDefault, headers: imageHeaders)
    #expect(errorMessage { try table.render(images) }
        == #"template: :1:10: executing "" at <.Nope>: can't evaluate field Nope in type image"#)
    #expect(errorMessage { try DockerTable(format: "{{.ID", defaultTable: imagesDefault, headers: imageHeaders) }
        == "template: :1: unclosed action")
    let inspect = try Template("{{.Config.Nope}}")
    #expect(errorMessage { try inspect.render(inspectDoc, options: TemplateOptions(missingKey: .error)) }
        == #"template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope""#)
}
