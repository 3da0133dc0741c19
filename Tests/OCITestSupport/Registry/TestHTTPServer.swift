import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the test server saw it (body collected, at most 64 MiB).
public struct TestHTTPRequest: Sendable {
    public var method: String
    /// Path and query as sent.
    public var uri: String
    /// Header names lowercased, in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of a header (name case-insensitive).
    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.name == n }?.value
    }

    /// The path without the query.
    public var path: String { String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }

    /// Query parameters (percent-decoded); repeated names keep every value.
    public var query: [(String, String)] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [] }
        return q.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func dec(_ s: Substring?) -> String { (s.map(String.init) ?? "").replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            return (dec(kv.first), dec(kv.count > 1 ? kv[1] : nil))
        }
    }

    /// The first value of query parameter `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
}

/// What the test server answers, including ways to misbehave.
public struct TestHTTPResponse: Sendable {
    /// How the body is delimited on the wire.
    public enum Framing: Sendable { case contentLength, chunked, closeDelimited }

    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var framing: Framing = .contentLength
    /// Send the head and this many body bytes, then close the connection.
    public var dropAfter: Int?
    /// Close the connection without answering.
    public var dropWithoutResponse = false

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body with `Content-Type: application/json`.
    public static func json(_ status: Int, _ object: Any, headers: [(String, String)] = []) -> TestHTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return TestHTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(data))
    }

    /// A distribution-spec error body.
    public static func error(_ status: Int, code: String, message: String, headers: [(String, String)] = []) -> TestHTTPResponse {
        json(status, ["errors": [["code": code, "message": message]]], headers: headers)
    }

    /// The connection is closed with no answer.
    public static var drop: TestHTTPResponse {
        var r = TestHTTPResponse(status: 500)
        r.dropWithoutResponse = true
        return r
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 (random port) for tests: each
/// request is collected, handed to `responder` on a worker queue, and the
/// answer written byte by byte as asked, so tests can send responses a
/// well-behaved framework would refuse to (no Content-Length, a
/// connection dropped mid-body).
public final class TestHTTPServer: @unchecked Sendable {
    public typealias Responder = @Sendable (TestHTTPRequest) -> TestHTTPResponse

    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let lock = NSLock()
    private var stopped = false

    /// `127.0.0.1:PORT`.
    public var hostPort: String { "127.0.0.1:\(port)" }

    /// Starts listening on 127.0.0.1 and a free port.
    public init(responder: @escaping Responder) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(RawResponder(responder: responder))
                }
            }
        do {
            channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        port = channel.localAddress?.port ?? 0
    }

    deinit { stop() }

    /// Stops listening and closes connections. Idempotent.
    public func stop() {
        let already = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !already else { return }
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Collects a request, asks the responder off the event loop, writes raw bytes.
private final class RawResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    let responder: TestHTTPServer.Responder
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(responder: @escaping TestHTTPServer.Responder) { self.responder = responder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
            body = []
            tooLarge = false
        case let .body(buf):
            if body.count + buf.readableBytes > 64 << 20 { tooLarge = true } else { body.append(contentsOf: buf.readableBytesView) }
        case .end:
            guard let h = head else { return }
            head = nil
            let request = TestHTTPRequest(method: h.method.rawValue, uri: h.uri,
                                          headers: h.headers.map { (name: $0.name.lowercased(), value: $0.value) }, body: body)
            body = []
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let responder = self.responder
            let isHead = h.method == .HEAD
            let keepAlive = h.isKeepAlive && !tooLarge
            DispatchQueue.global().async {
                let response = responder(request)
                bound.eventLoop.execute {
                    RawResponder.write(response, isHead: isHead, keepAlive: keepAlive, context: bound.value)
                }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    static func write(_ r: TestHTTPResponse, isHead: Bool, keepAlive: Bool, context: ChannelHandlerContext) {
        if r.dropWithoutResponse {
            context.close(promise: nil)
            return
        }
        var text = "HTTP/1.1 \(r.status) \(HTTPResponseStatus(statusCode: r.status).reasonPhrase)\r\n"
        var names = Set<String>()
        for (k, v) in r.headers {
            text += "\(k): \(v)\r\n"
            names.insert(k.lowercased())
        }
        var close = !keepAlive || r.dropAfter != nil
        switch r.framing {
        case .contentLength:
            if !names.contains("content-length") { text += "Content-Length: \(r.body.count)\r\n" }
        case .chunked:
            if !isHead { text += "Transfer-Encoding: chunked\r\n" }
        case .closeDelimited:
            close = true
        }
        if close { text += "Connection: close\r\n" }
        text += "\r\n"
        var out = context.channel.allocator.buffer(capacity: text.utf8.count + r.body.count + 64)
        out.writeString(text)
        if !isHead {
            var body = r.body[...]
            if let n = r.dropAfter { body = body.prefix(n) }
            if r.framing == .chunked && r.dropAfter == nil {
                var offset = 0
                while offset < body.count {
                    let n = min(16 << 10, body.count - offset)
                    out.writeString(String(n, radix: 16) + "\r\n")
                    out.writeBytes(body[(body.startIndex + offset)..<(body.startIndex + offset + n)])
                    out.writeString("\r\n")
                    offset += n
                }
                out.writeString("0\r\n\r\n")
            } else {
                out.writeBytes(body)
            }
        }
        let done = context.writeAndFlush(NIOAny(out))
        if close {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released: a small race
/// that starters handle by retrying).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupportError("socket: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestSupportError("bind 127.0.0.1:0: errno \(errno)") }
    var out = sockaddr_in()
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let got = withUnsafeMutablePointer(to: &out) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    guard got == 0 else { throw TestSupportError("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: out.sin_port))
}

/// A test-support failure with a message.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
