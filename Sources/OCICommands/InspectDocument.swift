import Foundation
import OCICore
import OCIModel
import OCIImage
import OCIFormat

/// The `docker image inspect` element of one image, as a struct view whose
/// fields are the Go fields of docker's `image.InspectResponse` (API 1.50,
/// docker 28) in their order, with their JSON names and `omitempty` rules,
/// so that one value serves both the typed template pass (`{{.ID}}`,
/// `{{.Config.User}}`) and the JSON output (`"Id"`, fields left out when
/// empty). ocitool's own facts follow docker's under `OCITool`.
struct InspectDocument {
    let image: Image
    /// The entry the image was chosen from (an index: its digest is the ID and repo digest).
    let entry: ImageEntry?
    /// The uncompressed size of each layer, when known.
    let layerSizes: [Digest: Int64]

    /// Uncompressed size of the image (docker's `Size`): the layers'
    /// uncompressed sizes; a layer whose size is unknown (a registry source)
    /// counts with its stored size.
    var size: Int64 {
        var seen = Set<Digest>()
        return image.layers.reduce(0) { total, l in
            seen.insert(l.digest).inserted ? total + (layerSizes[l.digest] ?? l.size) : total
        }
    }

    var value: TemplateValue {
        get throws {
            let raw = try Self.object(image.config.bytes, what: "config of \(image.id)")
            let top = entry ?? .image(image)
            let config = image.config.view
            let fields: [(String, TemplateValue)] = [
                ("ID", .string(top.id.description)),
                ("RepoTags", .strings(Self.repoTags(top.names))),
                ("RepoDigests", .strings(Self.repoDigests(top.names, digest: top.digest))),
                ("Parent", ""),
                ("Comment", .string(raw["comment"]?.stringValue ?? "")),
                ("Created", .string(Self.rfc3339Nano(config.created))),
                ("Container", ""),
                ("ContainerConfig", .null),
                ("DockerVersion", .string(raw["docker_version"]?.stringValue ?? "")),
                ("Author", .string(config.author ?? "")),
                ("Config", Self.containerConfig(raw["config"])),
                ("Architecture", .string(config.architecture ?? "")),
                ("Variant", .string(config.variant ?? "")),
                ("Os", .string(config.os ?? "")),
                ("OsVersion", .string(raw["os.version"]?.stringValue ?? "")),
                ("Size", .int(size)),
                ("VirtualSize", 0),
                ("GraphDriver", .structure("storage.DriverData", [("Data", .null), ("Name", "")])),
                ("RootFS", .structure("image.RootFS", [
                    ("Type", .string(config.rootfs?.type ?? "layers")),
                    ("Layers", .strings(image.diffIDs.map(\.description))),
                ], omitEmpty: ["Type", "Layers"])),
                ("Metadata", .structure("image.Metadata", [("LastTagTime", "0001-01-01T00:00:00Z")])),
                ("Descriptor", Self.descriptor(top.descriptor)),
                ("OCITool", .structure("ocitool.Details", [
                    ("ManifestDigest", .string(image.digest.description)),
                    ("ManifestMediaType", .string(image.mediaType)),
                    ("StoredSize", .int(image.storedSize)),
                    ("ConfigDescriptor", Self.descriptor(image.manifest.view.config)),
                    ("Layers", .array(image.layers.map { Self.descriptor($0, uncompressedSize: layerSizes[$0.digest]) })),
                ])),
            ]
            return .structure("image.InspectResponse", fields,
                              omitEmpty: ["Created", "Container", "ContainerConfig", "Variant", "OsVersion", "VirtualSize", "Descriptor"],
                              jsonNames: ["ID": "Id"])
        }
    }

    /// Tags only: a name that is a digest reference is a repo digest.
    static func repoTags(_ names: [ImageReference]) -> [String] {
        names.filter { $0.digest == nil }.map(\.familiarString)
    }

    /// `name@digest` once per repository (digest references keep their own digest).
    static func repoDigests(_ names: [ImageReference], digest: Digest) -> [String] {
        var out: [String] = []
        for n in names {
            let s = "\(n.familiarName)@\(n.digest ?? digest)"
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// docker re-formats `created` as RFC 3339 with nanoseconds and no trailing zeros.
    static func rfc3339Nano(_ created: String?) -> String {
        guard let created, !created.isEmpty else { return "" }
        guard let dot = created.firstIndex(of: ".") else { return created }
        let afterDot = created.index(after: dot)
        let end = created[afterDot...].firstIndex { !$0.isNumber } ?? created.endIndex
        let digits = created[afterDot..<end].prefix(9)
        let trimmed = digits.reversed().drop { $0 == "0" }.reversed()
        return String(created[..<dot]) + (trimmed.isEmpty ? "" : "." + String(trimmed)) + String(created[end...])
    }

    /// The image config's `config` object as docker's `DockerOCIImageConfig`
    /// (image-spec `ImageConfig` plus docker's Healthcheck, OnBuild, Shell):
    /// every field `omitempty`; unknown keys are not part of that type.
    static func containerConfig(_ value: TemplateValue?) -> TemplateValue {
        let c = value.flatMap(Self.entries) ?? [:]
        func strings(_ key: String) -> TemplateValue {
            guard case let .array(items)? = lookup(c, key) else { return .array([]) }
            return .array(items.map { .string($0.stringValue ?? "") })
        }
        func set(_ key: String) -> TemplateValue {
            let keys = lookup(c, key).flatMap(Self.entries)?.keys.map { $0 } ?? []
            var map: [String: TemplateValue] = [:]
            for k in keys { map[k] = .structure("struct {}", []) }
            return .map(map, elementZero: .structure("struct {}", []))
        }
        var labels: [String: TemplateValue] = [:]
        for (k, v) in lookup(c, "Labels").flatMap(Self.entries) ?? [:] { labels[k] = .string(v.stringValue ?? "") }
        var healthcheck: TemplateValue = .null
        if let h = lookup(c, "Healthcheck").flatMap(Self.entries) {
            func int(_ key: String) -> TemplateValue {
                if case let .int(i)? = lookup(h, key) { return .int(i) }
                return 0
            }
            var test: [TemplateValue] = []
            if case let .array(items)? = lookup(h, "Test") { test = items.map { .string($0.stringValue ?? "") } }
            healthcheck = .structure("v1.HealthcheckConfig", [
                ("Test", .array(test)), ("Interval", int("Interval")), ("Timeout", int("Timeout")),
                ("StartPeriod", int("StartPeriod")), ("StartInterval", int("StartInterval")), ("Retries", int("Retries")),
            ], omitEmpty: ["Test", "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"])
        }
        let fields: [(String, TemplateValue)] = [
            ("User", .string(lookup(c, "User")?.stringValue ?? "")),
            ("ExposedPorts", set("ExposedPorts")),
            ("Env", strings("Env")),
            ("Entrypoint", strings("Entrypoint")),
            ("Cmd", strings("Cmd")),
            ("Volumes", set("Volumes")),
            ("WorkingDir", .string(lookup(c, "WorkingDir")?.stringValue ?? "")),
            ("Labels", .map(labels, elementZero: "")),
            ("StopSignal", .string(lookup(c, "StopSignal")?.stringValue ?? "")),
            ("ArgsEscaped", .bool(lookup(c, "ArgsEscaped") == .bool(true))),
            ("Healthcheck", healthcheck),
            ("OnBuild", strings("OnBuild")),
            ("Shell", strings("Shell")),
        ]
        return .structure("v1.DockerOCIImageConfig", fields, omitEmpty: Set(fields.map(\.0)))
    }

    /// An OCI descriptor (`ocispec.Descriptor`: JSON names in lower camel case).
    static func descriptor(_ d: Descriptor, uncompressedSize: Int64? = nil) -> TemplateValue {
        var annotations: [String: TemplateValue] = [:]
        for (k, v) in d.annotations ?? [:] { annotations[k] = .string(v) }
        var platform: TemplateValue = .null
        if let p = d.platform {
            platform = .structure("v1.Platform", [
                ("Architecture", .string(p.architecture)), ("OS", .string(p.os)), ("OSVersion", .string(p.osVersion ?? "")),
                ("OSFeatures", .strings(p.osFeatures ?? [])), ("Variant", .string(p.variant ?? "")),
            ], omitEmpty: ["OSVersion", "OSFeatures", "Variant"],
               jsonNames: ["Architecture": "architecture", "OS": "os", "OSVersion": "os.version", "OSFeatures": "os.features", "Variant": "variant"])
        }
        var fields: [(String, TemplateValue)] = [
            ("MediaType", .string(d.mediaType)), ("Digest", .string(d.digest.description)), ("Size", .int(d.size)),
            ("URLs", .strings(d.urls ?? [])), ("Annotations", .map(annotations, elementZero: "")),
            ("Platform", platform), ("ArtifactType", .string(d.artifactType ?? "")),
        ]
        if let uncompressedSize { fields.append(("UncompressedSize", .int(uncompressedSize))) }
        return .structure("v1.Descriptor", fields, omitEmpty: ["URLs", "Annotations", "Platform", "ArtifactType"],
                          jsonNames: ["MediaType": "mediaType", "Digest": "digest", "Size": "size", "URLs": "urls",
                                      "Annotations": "annotations", "Platform": "platform", "ArtifactType": "artifactType",
                                      "UncompressedSize": "uncompressedSize"])
    }

    /// A JSON document's top-level object.
    static func object(_ bytes: [UInt8], what: String) throws -> [String: TemplateValue] {
        let value: TemplateValue
        do { value = try TemplateValue(json: Data(bytes)) } catch {
            throw ImageError.invalid(what, "not valid JSON")
        }
        guard let entries = entries(value) else { throw ImageError.invalid(what, "not a JSON object") }
        return entries
    }

    static func entries(_ value: TemplateValue) -> [String: TemplateValue]? {
        guard case let .object(o) = value else { return nil }
        var out: [String: TemplateValue] = [:]
        for (k, v) in o.entries { out[k] = v }
        return out
    }

    /// Go's JSON decoding matches keys case-insensitively when no exact key exists.
    static func lookup(_ object: [String: TemplateValue], _ key: String) -> TemplateValue? {
        if let v = object[key] { return v }
        let lower = key.lowercased()
        return object.first { $0.key.lowercased() == lower }?.value
    }
}
