import Foundation
import Testing
import OCIFormat

/// Struct fields with Go's `json:"name,omitempty"` tags: `json` renames
/// them and leaves empty ones out; templates see every field by its Go name.
@Suite("struct JSON tags")
struct JSONTagTests {
    let value: TemplateValue = .structure("image.InspectResponse", [
        ("ID", "sha256:1"), ("Variant", ""), ("Size", 0), ("Tags", .array([])), ("Labels", .map([:])),
        ("Nested", .structure("x", [])), ("Ptr", .null), ("Flag", false), ("Os", "linux"),
    ], omitEmpty: ["Variant", "Size", "Tags", "Labels", "Nested", "Ptr", "Flag"], jsonNames: ["ID": "Id", "Os": "os"])

    @Test func jsonRenamesAndOmits() throws {
        // An empty struct is never "empty" for omitempty, as in Go.
        #expect(try value.jsonString() == #"{"Id":"sha256:1","Nested":{},"os":"linux"}"#)
        #expect(try Template("{{json .}}").render(value) == #"{"Id":"sha256:1","Nested":{},"os":"linux"}"#)
    }

    @Test func templatesUseFieldNames() throws {
        #expect(try Template("{{.ID}}|{{.Variant}}|{{.Size}}|{{.Os}}|{{len .Tags}}").render(value) == "sha256:1||0|linux|0")
        #expect(throws: TemplateError.self) { try Template("{{.Id}}").render(value) }
    }

    @Test func nonEmptyValuesStay() throws {
        let v: TemplateValue = .structure("s", [("A", 1), ("B", "x"), ("C", .strings(["y"])), ("D", true)], omitEmpty: ["A", "B", "C", "D"])
        #expect(try v.jsonString() == #"{"A":1,"B":"x","C":["y"],"D":true}"#)
    }
}
