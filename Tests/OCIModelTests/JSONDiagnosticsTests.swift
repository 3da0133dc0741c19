import Foundation
import Testing
import OCIModel

/// `CanonicalJSON` errors say what is wrong and where, not Foundation's
/// "The data couldn't be read because it isn't in the correct format."
@Suite("JSON error messages")
struct JSONDiagnosticsTests {
    struct Doc: Decodable {
        var name: String
        var items: [Item]
        struct Item: Decodable { var size: Int64 }
    }

    static let cases: [(String, String)] = [
        ("", "is empty"),
        ("  \n", "holds only white space"),
        (#"{"name":"a","items":["#, "unexpected end of the document at line 1, column 22 (byte 21)"),
        ("{\"name\":\"a\",\n\"items\":[{\"size\":1}", "missing ] at the end of the document at line 2, column 20 (byte 32)"),
        (#"{"name":"abc"#, "unterminated string at line 1, column 9 (byte 8)"),
        (#"{"name":'a'}"#, "unexpected character ''' at line 1, column 9 (byte 8)"),
        (#"{"name":"a",}"#, "expected a quoted key at line 1, column 13 (byte 12)"),
        (#"{"name":"a"} x"#, "unexpected text after the document at line 1, column 14 (byte 13)"),
        (#"{"name":"a","items":[{"size":"1"}]}"#, "wrong type at items[0].size: expected a number"),
        (#"{"name":"a","items":[{}]}"#, "missing \"size\" in items[0]"),
        (#"{"items":[]}"#, "missing \"name\""),
        (#"{"name":null,"items":[]}"#, "null at name: expected a string"),
    ]

    @Test(arguments: cases)
    func decodeNamesTheProblem(json: String, expected: String) {
        do {
            _ = try CanonicalJSON.decode(Doc.self, from: Array(json.utf8), what: "doc.json")
            Issue.record("decoded \(json)")
        } catch let ModelError.badJSON(what, reason) {
            #expect(what == "doc.json")
            #expect(reason == expected, "\(json)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func objectTreeErrorsToo() {
        #expect(throws: ModelError.badJSON("x", "unterminated string at line 1, column 2 (byte 1)")) {
            try CanonicalJSON.object(from: Array(#"["abc"#.utf8), what: "x")
        }
    }
}
