import Testing
import OCIFormat

/// Error messages have Go's text/template wording (docker prefixes them
/// with "template parsing error: "). Columns are 0-based byte offsets; a
/// field chain is located at its second field, as Go's parser records it.
@Test(arguments: [
    ("{{.ID", "template: :1: unclosed action"),
    ("{{.ID\n\n", "template: :3: unclosed action started at :1"),
    ("{{foo}}", #"template: :1: function "foo" not defined"#),
    ("{{InvalidFunction}}", #"template: :1: function "InvalidFunction" not defined"#),
    ("{{.X | \"lit\"}}", "template: :1: non executable command in pipeline stage 2"),
    ("{{| .X}}", #"template: :1: unexpected "|" in command"#),
    ("{{.X | | .Y}}", #"template: :1: unexpected "|" in command"#),
    ("{{}}", "template: :1: missing value for command"),
    ("{{if}}{{end}}", "template: :1: missing value for if"),
    ("{{if .X}}", "template: :1: unexpected EOF"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{else}}", "template: :1: unexpected {{else}}"),
    ("{{range .}}{{else}}{{else}}{{end}}", "template: :1: expected end; found {{else}}"),
    ("{{$x}}", #"template: :1: undefined variable "$x""#),
    ("{{if 1}}{{$x := 1}}{{end}}{{$x}}", #"template: :1: undefined variable "$x""#),
    ("{{/* x }}", "template: :1: unclosed comment"),
    ("{{/* x */ }}", "template: :1: comment ends before closing delimiter"),
    ("{{\"abc}}", "template: :1: unterminated quoted string"),
    ("{{`abc}}", "template: :1: unterminated raw quoted string"),
    ("{{(.X}}", "template: :1: unclosed left paren"),
    ("{{.X)}}", "template: :1: unexpected right paren U+0029 ')'"),
    ("{{3x}}", #"template: :1: bad number syntax: "3x""#),
    ("{{.X:}}", "template: :1: expected :="),
    ("{{.X#}}", "template: :1: bad character U+0023 '#'"),
    ("{{.X , .Y}}", #"template: :1: unexpected "," in operand"#),
    ("{{\"a\".X}}", #"template: :1: unexpected . after term "\"a\"""#),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    ("{{range .}}{{continue 1}}{{end}}", #"template: :1: unexpected "1" in {{continue}}"#),
    ("{{$a, $b := .}}", "template: :1: too many declarations in command"),
    ("{{range $a, 3}}{{end}}", "template: :1: range can only initialize variables"),
    ("{{99999999999999999999}}", #"template: :1: integer overflow: "99999999999999999999""#),
    ("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}", #"template: :1: template: multiple definition of template "a""#),
    ("{{template 1}}", #"template: :1: unexpected "1" in template clause"#),
    ("a\nb\n{{.X", "template: :3: unclosed action"),
])
func parseErrors(template: String, expected: String) {
    #expect(errorMessage { try Template(template) } == expected)
}

@Test(arguments: [
    ("{{.Foo}}", #"template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type image"#),
    ("x\n  {{.Tag.X}}", #"template: :2:8: executing "" at <.Tag.X>: can't evaluate field X in type string"#),
    ("{{upper}}", #"template: :1:2: executing "" at <upper>: wrong number of args for upper: want 1 got 0"#),
    ("{{.Tag | pad 1}}", #"template: :1:9: executing "" at <pad>: wrong number of args for pad: want 3 got 2"#),
    ("{{index}}", #"template: :1:2: executing "" at <index>: wrong number of args for index: want at least 1 got 0"#),
    ("{{nil}}", #"template: :1:2: executing "" at <nil>: nil is not a command"#),
    ("{{.ID 1}}", #"template: :1:2: executing "" at <.ID>: ID has arguments but cannot be invoked as function"#),
    ("{{\"x\" 1}}", #"template: :1:2: executing "" at <"x">: can't give argument to non-function "x""#),
    ("{{upper 3}}", #"template: :1:8: executing "" at <3>: expected string; found 3"#),
    ("{{truncate .Tag \"3\"}}", #"template: :1:16: executing "" at <"3">: expected integer; found "3""#),
    ("{{upper nil}}", #"template: :1:8: executing "" at <nil>: cannot assign nil to string"#),
    ("{{len 3}}", #"template: :1:2: executing "" at <len 3>: error calling len: len of type int"#),
    ("{{len .}}", #"template: :1:2: executing "" at <len .>: error calling len: len of type image"#),
    ("{{lt 1 \"a\"}}", #"template: :1:2: executing "" at <lt 1 "a">: error calling lt: incompatible types for comparison: int and string"#),
    ("{{eq 1 1.0}}", #"template: :1:2: executing "" at <eq 1 1.0>: error calling eq: incompatible types for comparison: int and float64"#),
    ("{{lt true false}}", #"template: :1:2: executing "" at <lt true false>: error calling lt: invalid type for comparison"#),
    ("{{eq 1}}", #"template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison"#),
    ("{{range .}}{{end}}", #"template: :1:8: executing "" at <.>: range can't iterate over {0a71740239f9 busybox latest 43.5kB N/A}"#),
    ("{{range .Tag}}{{end}}", #"template: :1:8: executing "" at <.Tag>: range can't iterate over latest"#),
    ("{{template \"x\"}}", #"template: :1:11: executing "" at <{{template "x"}}>: template "x" not defined"#),
    ("{{call .ID}}", #"template: :1:2: executing "" at <call .ID>: error calling call: non-function of type string"#),
    ("{{pad .Tag -1 0}}", #"template: :1:2: executing "" at <pad .Tag -1 0>: error calling pad: strings: negative Repeat count"#),
    ("{{printf \"%d\" 1 | upper}}", "1"),
])
func executionErrors(template: String, expected: String) {
    let result: String
    do {
        result = try render(template, imageRow)
    } catch {
        result = "\(error)"
    }
    #expect(result == expected)
}

@Test(arguments: [
    ("{{index .RepoTags 5}}", #"template: :1:2: executing "" at <index .RepoTags 5>: error calling index: index out of range: 5"#),
    ("{{index .RepoTags 2}}", #"template: :1:2: executing "" at <index .RepoTags 2>: error calling index: index out of range: 2"#),
    ("{{index .RepoTags -1}}", #"template: :1:2: executing "" at <index .RepoTags -1>: error calling index: index out of range: -1"#),
    ("{{index .RepoTags \"a\"}}", #"template: :1:2: executing "" at <index .RepoTags "a">: error calling index: cannot index slice/array with type string"#),
    ("{{index .Config 1}}", #"template: :1:2: executing "" at <index .Config 1>: error calling index: value has type int; should be string"#),
    ("{{index .Size 0}}", #"template: :1:2: executing "" at <index .Size 0>: error calling index: can't index item of type int"#),
    ("{{index .Config.Cmd 0}}", #"template: :1:2: executing "" at <index .Config.Cmd 0>: error calling index: index of untyped nil"#),
    ("{{slice .L 3 1}}", #"template: :1:2: executing "" at <slice .L 3 1>: error calling slice: invalid slice index: 3 > 1"#),
    ("{{slice .Id 1 2 3}}", #"template: :1:2: executing "" at <slice .Id 1 2 3>: error calling slice: cannot 3-index slice a string"#),
    ("{{.Config.Cmd.X}}", #"template: :1:9: executing "" at <.Config.Cmd.X>: nil pointer evaluating interface {}.X"#),
    ("{{.Config.Env.X}}", #"template: :1:9: executing "" at <.Config.Env.X>: can't evaluate field X in type []interface {}"#),
    ("{{join .L 1}}", #"template: :1:10: executing "" at <1>: expected string; found 1"#),
    ("{{join .Config \",\"}}", #"template: :1:7: executing "" at <.Config>: wrong type for value; expected []string; got map[string]interface {}"#),
    ("{{upper .Size}}", #"template: :1:8: executing "" at <.Size>: wrong type for value; expected string; got int"#),
    ("{{upper .Config.Cmd}}", #"template: :1:15: executing "" at <.Config.Cmd>: wrong type for value; expected string; got interface {}"#),
    ("{{upper .Nope}}", #"template: :1:8: executing "" at <.Nope>: invalid value; expected string"#),
    ("{{eq .L .L}}", #"template: :1:2: executing "" at <eq .L .L>: error calling eq: non-comparable type [a b c d]: []interface {}"#),
    ("{{$x = 1}}", #"template: :1:7: executing "" at <1>: undefined variable: $x"#),
])
func documentErrors(template: String, expected: String) {
    #expect(errorMessage { try render(template, inspectDoc) } == expected)
}
