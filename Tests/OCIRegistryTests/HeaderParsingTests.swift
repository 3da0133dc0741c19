import Foundation
import Testing
@testable import OCIRegistry

/// Parsers of registry response headers: malformed input gives nil, never a trap.
@Suite("Registry header parsing")
struct HeaderParsingTests {
    @Test func challenges() {
        let c = AuthChallenge.parse(#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope""#)
        #expect(c.count == 1)
        #expect(c.first?.normalizedScheme == "bearer")
        #expect(c.first?.parameters["realm"] == "https://auth.example.com/token")
        #expect(c.first?.parameters["scope"] == "repository:a/b:pull,push repository:c:pull")
        #expect(c.first?.parameters["error"] == "insufficient_scope")
        let two = AuthChallenge.parse(#"Basic realm="x, y", Bearer realm="r",service=s"#)
        #expect(two.map(\.normalizedScheme) == ["basic", "bearer"])
        #expect(two.first?.parameters["realm"] == "x, y" && two.last?.parameters["service"] == "s")
        #expect(Authenticator.preferred(two)?.normalizedScheme == "bearer")
        #expect(AuthChallenge.parse(#"Bearer realm="unterminated"#).first?.parameters["realm"] == "unterminated")
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse(String(repeating: "a", count: 100_000)).isEmpty)
    }

    @Test func scopesUnite() {
        #expect(Scope.union(["repository:a:pull", "repository:a:push", "repository:b:pull", "repository:a:pull"])
                == ["repository:a:pull,push", "repository:b:pull"])
        #expect(Scope.push("x/y").description == "repository:x/y:pull,push")
    }

    @Test func numbersAndRanges() {
        #expect(HeaderParsing.int64("123") == 123)
        #expect(HeaderParsing.int64("-1") == nil && HeaderParsing.int64("1e3") == nil && HeaderParsing.int64("99999999999999999999") == nil)
        #expect(HeaderParsing.uploadOffset("0-99") == 100)
        #expect(HeaderParsing.uploadOffset("bytes=0-99") == 100)
        #expect(HeaderParsing.uploadOffset("0-0") == 0)
        #expect(HeaderParsing.uploadOffset("5-9") == nil && HeaderParsing.uploadOffset("0-9223372036854775807") == nil)
        #expect(HeaderParsing.contentRange("bytes 10-19/20").map { [$0.start, $0.end, $0.total ?? -1] } == [10, 19, 20])
        #expect(HeaderParsing.contentRange("bytes 10-19/*")?.total == nil)
        #expect(HeaderParsing.contentRange("bytes 19-10/20") == nil && HeaderParsing.contentRange("items 0-1/2") == nil)
        #expect(HeaderParsing.retryAfter("7") == 7)
        #expect(HeaderParsing.retryAfter("999999999") == 86_400)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(HeaderParsing.retryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == 10)
        #expect(HeaderParsing.retryAfter("soon") == nil)
        #expect(HeaderParsing.mediaType("application/vnd.oci.image.manifest.v1+json; charset=utf-8") == "application/vnd.oci.image.manifest.v1+json")
    }

    @Test func links() {
        #expect(HeaderParsing.nextLink(#"</v2/x/tags/list?n=3&last=c>; rel="next""#) == "/v2/x/tags/list?n=3&last=c")
        #expect(HeaderParsing.nextLink(#"<https://a/prev>; rel="prev", <https://a/next>; rel=next"#) == "https://a/next")
        #expect(HeaderParsing.nextLink("garbage") == nil)
    }

    @Test func tokenResponses() throws {
        let t = try BearerToken.parse(Array(#"{"token":"abc.def","expires_in":300}"#.utf8), requestedAt: Date())
        #expect(t.value == "abc.def" && t.isFresh)
        let a = try BearerToken.parse(Array(#"{"access_token":"xyz"}"#.utf8), requestedAt: Date(timeIntervalSinceNow: -120))
        #expect(a.value == "xyz" && !a.isFresh)  // default 60 s lifetime
        #expect(throws: TokenParseError.self) { _ = try BearerToken.parse(Array(#"{"token":"a\r\nX-Evil: 1"}"#.utf8), requestedAt: Date()) }
        #expect(throws: TokenParseError.self) { _ = try BearerToken.parse(Array(#"{"nothing":1}"#.utf8), requestedAt: Date()) }
        #expect(throws: TokenParseError.self) { _ = try BearerToken.parse(Array("[]".utf8), requestedAt: Date()) }
    }

    @Test func errorBodies() {
        let (code, message) = RegistryError.parseBody(Array(#"{"errors":[{"code":"DENIED","message":"requested access\nto the resource is denied"}]}"#.utf8))
        #expect(code == "DENIED" && message == "requested access to the resource is denied")
        #expect(RegistryError.parseBody(Array("<html>oops</html>".utf8)).message == nil)
        #expect(RegistryError.parseBody(Array(String(repeating: "x", count: 5000).utf8)).message?.count ?? 0 <= 301)
        #expect(JSONDepth.maximum(Array(#"{"a":"[[[[","b":[{"c":[]}]}"#.utf8)) == 4)
    }
}
