/// A token scope (distribution token-scope spec): `repository:NAME:ACTIONS`.
struct Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    var repository: String
    var actions: [String]

    static func pull(_ repository: String) -> Scope { Scope(repository: repository, actions: ["pull"]) }
    static func push(_ repository: String) -> Scope { Scope(repository: repository, actions: ["pull", "push"]) }
    static func delete(_ repository: String) -> Scope { Scope(repository: repository, actions: ["delete"]) }

    var description: String { "repository:\(repository):\(actions.joined(separator: ","))" }

    static func < (a: Scope, b: Scope) -> Bool { a.description < b.description }

    /// Merges scope strings: one entry per resource, actions united, sorted.
    static func union(_ scopes: [String]) -> [String] {
        var byResource: [String: Set<String>] = [:]
        var order: [String] = []
        for s in scopes {
            // resource type and name may contain ':' (ports); actions are after the last ':'.
            guard let colon = s.lastIndex(of: ":"), !s.isEmpty else { continue }
            let resource = String(s[..<colon])
            let actions = s[s.index(after: colon)...].split(separator: ",").map(String.init)
            if byResource[resource] == nil { order.append(resource) }
            byResource[resource, default: []].formUnion(actions)
        }
        return order.sorted().map { r in r + ":" + (byResource[r] ?? []).sorted().joined(separator: ",") }
    }
}
