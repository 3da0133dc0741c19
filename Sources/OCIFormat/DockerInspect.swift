/// docker's `inspect --format` semantics (its `TemplateInspector`).
///
/// docker executes the template against the typed Go struct first; if that
/// fails for any reason, it executes it again against the raw JSON decoded
/// into maps with `missingkey=error`, and reports that second result or
/// error. So `{{.Config.Labels.nope}}` prints `<no value>` (a typed map),
/// while `{{.Nope}}` fails with `map has no entry for key "Nope"`.
///
/// ```swift
/// let raw = try TemplateValue(json: inspectJSON)
/// let line = try DockerInspect.render(template, raw: raw)   // docker appends "\n"
/// ```
public enum DockerInspect {
    /// The keys whose objects are Go maps in docker's image-inspect types,
    /// with the zero value `index` gives for a missing key: `map[string]string`
    /// for `Config.Labels`, `GraphDriver.Data`, `Descriptor.Annotations`;
    /// `map[string]struct {}` for `Config.Volumes`, `Config.ExposedPorts`.
    /// Every other JSON object is a struct there.
    public static let mapKeys: [String: TemplateValue] = [
        "Labels": "", "Data": "", "Annotations": "",
        "Volumes": .structure("struct {}", []), "ExposedPorts": .structure("struct {}", []),
    ]

    /// Executes `template` the way docker's inspect does.
    /// - Parameters:
    ///   - template: the parsed `--format` (docker does not expand `\t` here).
    ///   - typed: the struct view; by default ``typedView(of:mapKeys:)`` of `raw`.
    ///   - raw: the element's JSON document decoded with ``TemplateValue/init(json:)``.
    ///   - options: limits; the fallback always uses ``TemplateOptions/MissingKey/error``.
    /// - Throws: the fallback's ``TemplateError`` when both executions fail.
    public static func render(_ template: Template, typed: TemplateValue? = nil, raw: TemplateValue,
                              options: TemplateOptions = TemplateOptions()) throws -> String {
        if let output = try? template.render(typed ?? typedView(of: raw), options: options) { return output }
        var strict = options
        strict.missingKey = .error
        return try template.render(raw, options: strict)
    }

    /// `raw` with its JSON objects turned into struct-like objects (fields in
    /// sorted key order), except objects stored under one of `mapKeys`, which
    /// stay map-like with the given missing-key zero value (their values are
    /// converted in turn).
    public static func typedView(of raw: TemplateValue, mapKeys: [String: TemplateValue] = mapKeys) -> TemplateValue {
        convert(raw, asMap: nil, mapKeys: mapKeys, depth: 0)
    }

    /// `asMap` is the element zero when the object is a map, `nil` for a struct.
    private static func convert(_ value: TemplateValue, asMap: TemplateValue?, mapKeys: [String: TemplateValue], depth: Int) -> TemplateValue {
        guard depth < GoValuePrinter.maxDepth else { return value }
        switch value {
        case let .array(items):
            return .array(items.map { convert($0, asMap: nil, mapKeys: mapKeys, depth: depth + 1) })
        case let .object(object):
            let entries = object.entries.map { entry in
                (entry.key, convert(entry.value, asMap: mapKeys[entry.key], mapKeys: mapKeys, depth: depth + 1))
            }
            if let zero = asMap {
                var map: [String: TemplateValue] = [:]
                for (key, item) in entries { map[key] = item }
                return .map(map, elementZero: zero)
            }
            return .structure("struct", entries)
        default:
            return value
        }
    }
}
