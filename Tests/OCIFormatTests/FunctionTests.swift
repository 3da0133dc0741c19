import Testing
import OCIFormat

/// Builtins and docker's functions; expected values follow Go's `fmt`,
/// `strings`, `encoding/json` and text/template documentation.
@Test(arguments: [
    ("{{print 1 2 \"a\" \"b\" 3 nil}}", "1 2ab3 <nil>"),
    ("{{println \"a\" 1 nil}}", "a 1 <nil>\n"),
    ("[{{print}}]", "[]"),
    ("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}|", "0 2 x |"),
    ("{{and .Nope 1}} {{or .Nope}}", "<no value> <no value>"),
    ("{{not 0}} {{not \"a\"}} {{not .Empty}} {{not .Config}}", "true false true false"),
    ("{{eq .Id \"x\" \"sha256:abc\"}} {{eq 1 2}} {{eq .Config.Cmd nil}} {{eq .Nope .Config.Cmd}}", "true false true true"),
    ("{{ne 1 2}} {{ne \"a\" \"a\"}} {{eq .Size 43500}} {{eq .Ratio 1.5}}", "true false true true"),
    ("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}} {{lt \"B\" \"a\"}}", "true true true false true"),
    ("{{len \"héllo\"}} {{len .Empty}}", "6 0"),
    ("{{index \"abc\" 1}} {{index .Config \"Env\" 0}} {{index .L}}", "98 PATH=/bin [a b c d]"),
    ("{{slice \"abcdef\" 1 3}} {{slice \"abc\" 1}} {{slice .L 1 3}} {{slice .L 0 1 2}} {{slice .L}}", "bc bc [b c] [a] [a b c d]"),
    ("{{html \"<a href='x'>&\\\"\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"),
    ("{{js \"a'b<c\\\"d=\\n\"}}", "a\\'b\\u003Cc\\\"d\\u003D\\u000A"),
    ("{{urlquery \"a b&c/d~é\"}}", "a+b%26c%2Fd~%C3%A9"),
    ("{{html 1 2}}", "1 2"),
    ("{{split \"a,b,c\" \",\"}} {{split \"a,b,\" \",\"}} {{len (split \"\" \",\")}} {{len (split \"\" \"\")}}", "[a b c] [a b ] 1 0"),
    ("{{split \"héllo\" \"\"}} {{index (split \"a:b\" \":\") 1}}", "[h é l l o] b"),
    ("{{join .L \"-\"}} {{join (split \"x y\" \" \") \",\"}}", "a-b-c-d x,y"),
    ("{{title \"hello wORLD-foo_bar o'neil\"}}", "Hello WORLD-Foo_bar O'Neil"),
    ("{{lower \"ÀBC\"}} {{upper \"straße\"}} {{upper \"ǆ\"}}", "àbc STRAßE Ǆ"),
    ("[{{pad \"x\" 2 3}}] [{{pad \"\" 2 3}}]", "[  x   ] []"),
    ("{{truncate \"abcdef\" 3}} {{truncate \"ab\" 5}} {{truncate \"abc\" 3}} {{truncate \"héllo\" 2}}", "abc ab abc h"),
    ("{{json .Config}}", #"{"Cmd":null,"Env":["PATH=/bin"],"Labels":{"a":"1","b":"2"},"Tty":false}"#),
    ("{{json \"a\\\"b\\\\c\\n\\t<&>\\u2028\\x01\\b\"}}", #""a\"b\\c\n\t<&>\u2028\u0001\b""#),
    ("{{json 1.5}} {{json 1e21}} {{json 1e20}} {{json 0.000001}} {{json 0.0000001}} {{json 100.0}} {{json -0.25}}",
     "1.5 1e+21 100000000000000000000 0.000001 1e-7 100 -0.25"),
    ("{{json nil}} {{json .Nope}} {{json true}} {{json .Size}} {{json .Empty}}", "null null true 43500 []"),
    ("{{.Config}}", "map[Cmd:<nil> Env:[PATH=/bin] Labels:map[a:1 b:2] Tty:false]"),
])
func functions(template: String, expected: String) throws {
    #expect(try render(template, inspectDoc) == expected)
}

@Test func jsonCanEscapeHTMLLikeGoMarshal() throws {
    let options = TemplateOptions(jsonEscapesHTML: true)
    #expect(try render("{{json \"<a&b>\"}}", options: options) == #""\u003ca\u0026b\u003e""#)
    #expect(try TemplateValue.string("<&>").jsonString(escapeHTML: true) == #""\u003c\u0026\u003e""#)
    #expect(try TemplateValue.string("<&>").jsonString() == #""<&>""#)
}

@Test func jsonOfStructKeepsFieldOrder() throws {
    #expect(try render("{{json .}}", imageRow)
        == #"{"ID":"0a71740239f9","Repository":"busybox","Tag":"latest","Size":"43.5kB","Containers":"N/A"}"#)
}

@Test(arguments: [
    ("{{printf \"%5.2f|%-4d|%q|%x|%X|%o|%b|%t|%%\" 3.14159 7 \"hi\" 255 255 8 5 true}}", " 3.14|7   |\"hi\"|ff|FF|10|101|true|%"),
    ("{{printf \"%05d|%+d|% d|%x|%#x|%#o|%O|%-5d|\" 42 42 42 -255 255 8 8 3}}", "00042|+42| 42|-ff|0xff|010|0o10|3    |"),
    ("{{printf \"%.3s|%8s|%-8s|%08s|\" \"abcdef\" \"ab\" \"ab\" \"ab\"}}", "abc|      ab|ab      |000000ab|"),
    ("{{printf \"%e|%E|%.2e|%g|%G|%.3g|%f|%.1f\" 1234.5678 1234.5678 1234.5678 1234.5678 1234.5678 1234.5678 2.5 0.25}}",
     "1.234568e+03|1.234568E+03|1.23e+03|1234.5678|1234.5678|1.23e+03|2.500000|0.2"),
    ("{{printf \"%v|%v|%v|%v|%v|%.2v\" 1e21 1e-7 100000.0 3.0 1234567.0 3.14159}}", "1e+21|1e-07|100000|3|1.234567e+06|3.1"),
    ("{{printf \"%6.2f|%06.2f|%+.1f|% .1f|%-7.2f|\" -3.14159 -3.14159 2.0 2.0 1.5}}", " -3.14|-03.14|+2.0| 2.0|1.50   |"),
    ("{{printf \"%c|%q|%U|%#U|%c\" 65 65 128512 65 233}}", "A|'A'|U+1F600|U+0041 'A'|é"),
    ("{{printf \"%x|% x|%#x|%X\" \"hi\" \"hi\" \"hi\" \"hi\"}}", "6869|68 69|0x6869|6869"),
    ("{{printf \"%q|%#q|%q\" \"a\\tb\" \"a\\tb\" \"é\\u0007\"}}", "\"a\\tb\"|`a\tb`|\"é\\a\""),
    ("[{{printf \"%.0d\" 0}}][{{printf \"%5.0d\" 0}}][{{printf \"%.3d\" 7}}][{{printf \"%8.3d\" -7}}]", "[][     ][007][    -007]"),
    ("{{printf \"%d\" \"x\"}}|{{printf \"%s\" 5}}|{{printf \"%d\" nil}}|{{printf \"%t\" \"x\"}}|{{printf \"%z\" 1}}",
     "%!d(string=x)|%!s(int=5)|%!d(<nil>)|%!t(string=x)|%!z(int=1)"),
    ("{{printf \"%s\"}}|{{printf \"a\" 1 \"b\"}}|{{printf \"%\"}}|{{printf \"%d %d\" 1}}",
     "%!s(MISSING)|a%!(EXTRA int=1, string=b)|%!(NOVERB)|1 %!d(MISSING)"),
    ("{{printf \"%[2]s %[1]s|%[3]d|%[1]s\" \"a\" \"b\"}}", "b a|%!d(BADINDEX)|a"),
    ("{{printf \"%*d|%-*d|%.*f\" 4 1 4 2 2 3.14159}}", "   1|2   |3.14"),
    ("{{printf \"%*d\" 2000000 1}}", "%!(BADWIDTH)1"),
    ("{{printf \"%v|%q|%d|%5d|%s\" .L .L .Nums .Nums .Mixed}}", "[a b c d]|[\"a\" \"b\" \"c\" \"d\"]|[1 2]|[    1     2]|[%!s(int=1) x <nil>]"),
    ("{{printf \"%v|%d\" .Map .Map}}", "map[a:1 b:2]|map[%!d(string=a):1 %!d(string=b):2]"),
    ("{{printf \"%T %T %T %T %T %T\" 1 \"s\" 1.5 true .L .Map}}", "int string float64 bool []interface {} map[string]interface {}"),
    ("{{printf \"%T|%v\" nil nil}}", "<nil>|<nil>"),
])
func printf(template: String, expected: String) throws {
    let data: TemplateValue = ["L": ["a", "b", "c", "d"], "Nums": [1, 2], "Mixed": [1, "x", nil], "Map": ["a": 1, "b": 2]]
    #expect(try render(template, data) == expected)
}

@Test func customFunctions() throws {
    let double = TemplateFunction("double", parameters: [.int]) { args in
        guard case let .int(n) = args[0] else { return .null }
        let (result, overflow) = n.multipliedReportingOverflow(by: 2)
        if overflow { throw TemplateFunctionError("overflow") }
        return .int(result)
    }
    let template = try Template("{{double 21}} {{21 | double}}", functions: .docker.adding([double]))
    #expect(try template.render(.null) == "42 42")
    let failing = try Template("{{double 9223372036854775807}}", functions: .docker.adding([double]))
    #expect(errorMessage { try failing.render(.null) }
        == #"template: :1:2: executing "" at <double 9223372036854775807>: error calling double: overflow"#)
    #expect(errorMessage { try Template("{{upper 1}}", functions: .goBuiltins) } == #"template: :1: function "upper" not defined"#)
}
