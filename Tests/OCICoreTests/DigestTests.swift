import Foundation
import OCICore
import Testing

/// `Digest` parsing against the OCI grammar (image-spec descriptor.md, "Digests").
@Suite("Digest parsing")
struct DigestTests {
    static let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Parses `value`, expecting failure, and returns the error's description.
    private func rejection(_ value: String) -> String? {
        do {
            _ = try Digest(parsing: value)
            return nil
        } catch let error as CoreError {
            guard case let .invalidDigest(v, _) = error else { return "unexpected \(error)" }
            #expect(v == value, "the error must carry the rejected value")
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func validSHA256() throws {
        let d = try Digest(parsing: "sha256:" + Self.hex)
        #expect(d.algorithm == "sha256")
        #expect(d.encoded == Self.hex)
        #expect(d.description == "sha256:" + Self.hex)
        #expect(d.shortID == "e3b0c44298fc")
        #expect(try Digest(sha256Hex: Self.hex) == d)
        #expect(Digest.isValid(d.description))
    }

    @Test func validSHA512AndOtherAlgorithms() throws {
        let h512 = String(repeating: "ab", count: 64)
        #expect(try Digest(parsing: "sha512:" + h512).algorithm == "sha512")
        // Registered-elsewhere algorithms only need the general grammar.
        let multi = try Digest(parsing: "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")
        #expect(multi.algorithm == "multihash+base58")
        #expect(Digest.isValid("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"))
        #expect(Digest.isValid("a.b_c-d:x=="))
    }

    @Test(arguments: [
        "sha256:" + DigestTests.hex.uppercased(),
        "sha256:" + "E" + DigestTests.hex.dropFirst(),
        "sha512:" + String(repeating: "AB", count: 64),
    ])
    func uppercaseHexRejected(_ value: String) throws {
        let message = try #require(rejection(value))
        #expect(message.contains("lowercase hex"), "\(message)")
        #expect(message.contains("invalid digest"), "\(message)")
    }

    @Test(arguments: [63, 65, 0, 128])
    func wrongLengthRejected(_ length: Int) throws {
        let enc = String(repeating: "a", count: length)
        let message = try #require(rejection("sha256:" + enc))
        #expect(message.contains(length == 0 ? "bad encoded part" : "64 lowercase hex"), "\(message)")
    }

    @Test func sha512WrongLengthRejected() throws {
        let message = try #require(rejection("sha512:" + DigestTests.hex))
        #expect(message.contains("128 lowercase hex"), "\(message)")
    }

    @Test(arguments: ["", "sha256", DigestTests.hex, "sha256;" + DigestTests.hex])
    func missingColonRejected(_ value: String) throws {
        let message = try #require(rejection(value))
        #expect(message.contains("missing ':'"), "\(message)")
    }

    @Test(arguments: [
        ":" + DigestTests.hex,  // empty algorithm
        "SHA256:" + DigestTests.hex,  // uppercase algorithm
        "sha256+:abc",  // trailing separator
        "+sha256:abc",  // leading separator
        "sha..256:abc",  // doubled separator
        "sha-_256:abc",
        "sha 256:abc",
        "sha/256:abc",
        "shä256:abc",
    ])
    func badAlgorithmGrammarRejected(_ value: String) throws {
        let message = try #require(rejection(value))
        #expect(message.contains("bad algorithm"), "\(message)")
    }

    @Test(arguments: [
        "sha256:",  // empty encoded part
        "foo:abc/def",
        "foo:abc def",
        "foo:abc:def",
        "foo:abc.def",
        "sha256:" + DigestTests.hex + "\n",
        "sha256: " + DigestTests.hex,
    ])
    func badEncodedPartRejected(_ value: String) throws {
        let message = try #require(rejection(value))
        #expect(message.contains("bad encoded part"), "\(message)")
    }

    @Test func errorMessageNamesValueAndReason() throws {
        let value = "sha256:" + String(repeating: "z", count: 64)
        let message = try #require(rejection(value))
        #expect(message.hasPrefix("invalid digest \"sha256:zzzz"))
        #expect(message.hasSuffix("sha256 needs 64 lowercase hex characters"))
        // Very long input is shortened in the message.
        let long = "sha256:" + String(repeating: "f", count: 5000)
        let longMessage = try #require(rejection(long))
        #expect(longMessage.count < 300, "\(longMessage.count) characters")
    }

    @Test func codableRoundTripAndValidationOnDecode() throws {
        let d = try Digest(sha256Hex: Self.hex)
        let json = try JSONEncoder().encode([d])
        #expect(String(decoding: json, as: UTF8.self) == "[\"sha256:\(Self.hex)\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: json) == [d])
        let bad = Data("[\"sha256:\(Self.hex.uppercased())\"]".utf8)
        #expect(throws: CoreError.self) { try JSONDecoder().decode([Digest].self, from: bad) }
    }

    @Test func orderingAndHashing() throws {
        let a = try Digest(sha256Hex: String(repeating: "0", count: 64))
        let b = try Digest(sha256Hex: Self.hex)
        let c = try Digest(parsing: "sha512:" + String(repeating: "0", count: 128))
        #expect([c, b, a].sorted() == [a, b, c])
        #expect(Set([a, b, a]).count == 2)
    }
}
