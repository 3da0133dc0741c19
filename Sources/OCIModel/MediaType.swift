/// Media types of the OCI image-spec (media-types.md) and their Docker
/// distribution equivalents.
public enum MediaType {
    public static let ociLayout = "application/vnd.oci.layout.header.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// An image index or manifest list?
    public static func isIndex(_ t: String?) -> Bool { t == ociIndex || t == dockerManifestList }
    /// An image manifest (OCI or Docker v2 schema 2)?
    public static func isManifest(_ t: String?) -> Bool { t == ociManifest || t == dockerManifest }
    /// A Docker-family media type?
    public static func isDocker(_ t: String?) -> Bool { t?.hasPrefix("application/vnd.docker.") ?? false }
    /// A non-distributable ("foreign") layer, which archives may omit.
    public static func isNondistributable(_ t: String) -> Bool {
        t.contains(".nondistributable.") || t.contains(".foreign.")
    }
    /// Is this a layer media type ocitool can unpack (a tar, maybe compressed)?
    public static func isTarLayer(_ t: String) -> Bool {
        t.hasPrefix("application/vnd.oci.image.layer.") || t.hasPrefix("application/vnd.docker.image.rootfs.")
    }

    /// The layer media type of a family for a compression.
    public static func layer(docker: Bool, compression: LayerCompression) -> String {
        switch (docker, compression) {
        case (true, .none): return dockerLayer
        case (true, .gzip): return dockerLayerGzip
        case (_, .zstd): return ociLayerZstd
        case (false, .none): return ociLayer
        case (false, .gzip): return ociLayerGzip
        }
    }
}

/// The compressions a layer blob may have.
public enum LayerCompression: String, Sendable, Codable, CaseIterable {
    case none, gzip, zstd
}
