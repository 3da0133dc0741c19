// The ocitool library: `import OCITool` gives the image model, the
// transports and the copy engine, the store, archive readers and writers,
// the union view and the registry client. Implementation details (file
// helpers, sinks, encoders, the archive scanner) are `package` and stay
// inside the package.
@_exported import OCICore
@_exported import OCIModel
@_exported import OCIImage
@_exported import OCIStore
@_exported import OCIArchive
@_exported import OCILayer
@_exported import OCIRegistry
@_exported import OCITransport
