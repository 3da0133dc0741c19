import Testing
import OCIFormat

/// Templates are input: output, work, recursion and nesting are bounded
/// and each bound is a clear error, never a crash.
@Test func outputIsBounded() throws {
    let options = TemplateOptions(maxOutputBytes: 1000)
    #expect(errorMessage { try render("{{range 100000}}xxxxxxxxxx{{end}}", options: options) }
        == "template: output exceeds 1000 bytes")
}

@Test func stepsAreBounded() throws {
    let options = TemplateOptions(maxSteps: 10_000)
    #expect(errorMessage { try render("{{range 1000000000000}}{{end}}", options: options) }
        == "template: execution exceeded 10000 steps")
}

@Test func growingValuesAreBounded() throws {
    let doubling = "{{$x := \"ab\"}}{{range 64}}{{$x = printf \"%s%s\" $x $x}}{{end}}{{len $x}}"
    #expect(errorMessage { try render(doubling) } == "template: result of printf exceeds 16777216 bytes")
    #expect(errorMessage { try render("{{pad \"x\" 1000000000 0}}") } == "template: result of pad exceeds 16777216 bytes")
    #expect(errorMessage { try render("{{pad \"x\" 9223372036854775807 9223372036854775807}}") }
        == "template: result of pad exceeds 16777216 bytes")
    let small = TemplateOptions(maxOutputBytes: 1000)
    #expect(errorMessage { try render("{{len (split (printf \"%500s\" \"\") \"\")}}", options: small) }
        == "template: result of split exceeds 1000 bytes")
    #expect(try render("{{printf \"%20000000d\" 1}}") == "%!(NOVERB)%!(EXTRA int=1)")
    #expect(try render("{{len (printf \"%1000000d\" 1)}}") == "1000000")
}

@Test func templateRecursionIsBounded() throws {
    let recursive = "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}"
    #expect(errorMessage { try render(recursive) }
        == #"template: :1:25: executing "" at <{{template "r" .}}>: exceeded maximum template depth (40)"#)
    let options = TemplateOptions(maxTemplateDepth: 3)
    let counting = "{{define \"c\"}}{{if .}}x{{template \"c\" (slice . 1)}}{{end}}{{end}}{{template \"c\" .}}"
    #expect(try render(counting, ["a", "b"], options: options) == "xx")
    #expect(errorMessage { try render(counting, ["a", "b", "c"], options: options) }?.hasSuffix("exceeded maximum template depth (3)") == true)
}

@Test func parseNestingIsBounded() throws {
    let deepIf = String(repeating: "{{if 1}}", count: 51) + String(repeating: "{{end}}", count: 51)
    #expect(errorMessage { try Template(deepIf) } == "template: :1: max nesting depth exceeded")
    let okIf = String(repeating: "{{if 1}}", count: 50) + "x" + String(repeating: "{{end}}", count: 50)
    #expect(try Template(okIf).render(.null) == "x")
    let deepParens = "{{" + String(repeating: "(", count: 51) + "1" + String(repeating: ")", count: 51) + "}}"
    #expect(errorMessage { try Template(deepParens) } == "template: :1: max expression depth exceeded")
    let longChain = "{{if 0}}{{" + String(repeating: "else if 0}}{{", count: 5000) + "else}}deep{{end}}"
    #expect(try Template(longChain).render(.null) == "deep")
}

@Test func deepDataIsAnErrorNotACrash() throws {
    var value: TemplateValue = "leaf"
    for _ in 0..<2000 { value = .array([value]) }
    #expect(errorMessage { try render("{{.}}", value) } == "template: value nested deeper than 100 levels")
    #expect(errorMessage { try render("{{printf \"%d\" .}}", value) } == "template: value nested deeper than 100 levels")
    #expect(errorMessage { try render("{{json .}}", value) } == "template data: json: value nested deeper than 100 levels")
}

@Test func hugeNumbersDoNotTrap() throws {
    #expect(try render("{{-9223372036854775808}} {{printf \"%x|%d|%U\" -9223372036854775808 -9223372036854775808 -1}}")
        == "-9223372036854775808 -8000000000000000|-9223372036854775808|U+FFFFFFFFFFFFFFFF")
    #expect(errorMessage { try render("{{9223372036854775808}}") }
        == #"template: :1:2: executing "" at <9223372036854775808>: 9223372036854775808 overflows int"#)
    #expect(errorMessage { try render("{{index .L 9223372036854775807}}", ["L": ["a"]]) }?.hasSuffix("index out of range: 9223372036854775807") == true)
    #expect(errorMessage { try render("{{truncate \"abc\" -1}}") }?.hasSuffix("slice bounds out of range [:-1]") == true)
    #expect(errorMessage { try render("{{1e999}}") } == #"template: :1: illegal number syntax: "1e999""#)
}
