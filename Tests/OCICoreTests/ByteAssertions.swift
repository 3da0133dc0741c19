import Testing

/// Expects two byte arrays to be equal, reporting sizes and the first
/// differing offset. (`#expect(a == b)` on megabyte arrays makes Swift
/// Testing compute a collection diff on failure, which takes minutes.)
func expectSameBytes(_ actual: [UInt8], _ expected: [UInt8], _ comment: @autoclosure () -> String = "",
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual != expected else { return }
    let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(actual.count, expected.count)
    Issue.record("\(comment()) bytes differ: \(actual.count) vs \(expected.count) bytes, first difference at offset \(first)",
                 sourceLocation: sourceLocation)
}
