import Foundation
import OCIFormat

/// Renders `text` against `data` with docker's function set.
func render(_ text: String, _ data: TemplateValue = .null, options: TemplateOptions = TemplateOptions()) throws -> String {
    try Template(text).render(data, options: options)
}

/// The one-line message of the error `body` throws, or nil when it succeeds.
func errorMessage(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// A docker `images` row as the lead will build it (struct-like).
let imageRow: TemplateValue = .structure("image", [
    ("ID", "0a71740239f9"), ("Repository", "busybox"), ("Tag", "latest"), ("Size", "43.5kB"), ("Containers", "N/A"),
])

/// A docker `inspect` document (map-like, decoded from JSON).
let inspectDoc: TemplateValue = {
    let json = #"""
    {"Id":"sha256:abc","RepoTags":["busybox:latest","busybox:1.36"],"Size":43500,"Ratio":1.5,
     "Config":{"Env":["PATH=/bin"],"Labels":{"b":"2","a":"1"},"Cmd":null,"Tty":false},
     "RootFS":{"Type":"layers","Layers":["sha256:1","sha256:2"]},"Empty":[],"L":["a","b","c","d"]}
    """#
    do {
        return try TemplateValue(json: Data(json.utf8))
    } catch {
        return .null
    }
}()
