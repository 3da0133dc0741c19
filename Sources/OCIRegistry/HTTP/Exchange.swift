import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import OCICore

/// The body of a request, replayable for retries and redirects.
enum RequestBody: Sendable {
    /// Small in-memory bytes (a manifest, a token form).
    case bytes([UInt8])
    /// `length` bytes of the file at `path` from `offset`, read on the
    /// caller's thread in `chunk`-byte blocks as the connection takes them.
    case file(path: String, offset: Int64, length: Int64, chunk: Int)

    var length: Int64 {
        switch self {
        case let .bytes(b): return Int64(b.count)
        case let .file(_, _, length, _): return length
        }
    }
}

/// One HTTP request and its response, driven from the caller's thread.
///
/// async-http-client runs the exchange on its event loops; every event
/// (request-body demand, response head, body parts, end, error) is posted
/// to a mailbox that the caller's thread takes from. Reading from the file
/// of a `.file` body and writing response bytes into sinks therefore happen
/// on the caller's thread only. Backpressure: once about 1 MiB of response
/// body is queued, a part's future is completed only when the caller takes
/// it, so memory stays bounded and the socket is not read faster than the
/// caller consumes.
final class Exchange {
    private let mailbox = Mailbox()
    private var task: HTTPClient.Task<Void>?
    private var finished = false
    private var sawHead = false
    // Request-body state (caller thread only).
    private var writer: HTTPClient.Body.StreamWriter?
    private var writerDone: EventLoopPromise<Void>?
    private var source: FileSource?
    private var remaining: Int64 = 0
    private var chunkSize = 1 << 20
    /// Request-body blocks handed to the connection and not yet written.
    private var inFlight = 0
    static let maxInFlight = 2
    private let bodySent: (@Sendable (Int64) -> Void)?
    private let allocator = ByteBufferAllocator()

    /// Starts `request` on `client`. `bodySent` is told (on the caller's
    /// thread) how many request-body bytes each completed write carried.
    init(client: HTTPClient, method: HTTPMethod, url: String, headers: HTTPHeaders, body: RequestBody?,
         tls: TLSConfiguration?, deadline: NIODeadline?, eventLoop: EventLoop,
         bodySent: (@Sendable (Int64) -> Void)? = nil) throws {
        self.bodySent = bodySent
        var httpBody: HTTPClient.Body?
        switch body {
        case nil:
            break
        case let .bytes(bytes):
            httpBody = .bytes(bytes)
        case let .file(path, offset, length, chunk):
            let src = try FileSource(path: path)
            if offset > 0 {
                guard lseek(src.fd, off_t(offset), SEEK_SET) == offset else {
                    throw CoreError.io(context: "seek \(path)", errno: errno)
                }
            }
            source = src
            remaining = length
            chunkSize = max(4096, min(chunk, 4 << 20))
            let box = mailbox
            let loop = eventLoop
            httpBody = .stream(contentLength: length) { writer in
                let done = loop.makePromise(of: Void.self)
                box.post(.writer(writer, done))
                return done.futureResult
            }
        }
        let request = try HTTPClient.Request(url: url, method: method, headers: headers, body: httpBody, tlsConfiguration: tls)
        let delegate = ExchangeDelegate(mailbox: mailbox)
        let task = client.execute(request: request, delegate: delegate, eventLoop: .delegate(on: eventLoop), deadline: deadline)
        let box = mailbox
        task.futureResult.whenFailure { box.post(.failure($0)) }
        self.task = task
    }

    deinit { close() }

    /// Waits for the response head, feeding the request body meanwhile.
    func head() throws -> HTTPResponseHead {
        while true {
            switch try nextEvent() {
            case let .head(h):
                sawHead = true
                return h
            case let .body(_, promise):
                promise?.succeed(())  // cannot come before a head; ignore
            case .end:
                throw HTTPClientError.remoteConnectionClosed
            default:
                continue
            }
        }
    }

    /// The next part of the response body, or nil at its end.
    func nextChunk() throws -> ByteBuffer? {
        if finished { return nil }
        while true {
            switch try nextEvent() {
            case let .body(buffer, promise):
                promise?.succeed(())
                if buffer.readableBytes == 0 { continue }
                return buffer
            case .end:
                finished = true
                return nil
            default:
                continue
            }
        }
    }

    /// Reads the whole body, failing with `tooLarge` past `limit` bytes.
    func collect(limit: Int) throws -> [UInt8]? {
        var out: [UInt8] = []
        while let chunk = try nextChunk() {
            guard out.count + chunk.readableBytes <= limit else { return nil }
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }

    /// Reads at most `limit` bytes of the body and discards the rest
    /// (error bodies): the connection stays reusable when the rest is small.
    func collectPrefix(limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        var discarded = 0
        do {
            while let chunk = try nextChunk() {
                let room = limit - out.count
                if room > 0 { out.append(contentsOf: chunk.readableBytesView.prefix(room)) }
                discarded += max(0, chunk.readableBytes - max(room, 0))
                if discarded > 1 << 20 { close(); break }
            }
        } catch {}
        return out
    }

    /// Cancels the exchange if it is still running and releases everything
    /// it holds. Idempotent.
    func close() {
        if !finished {
            finished = true
            task?.cancel()
        }
        mailbox.close()
        writerDone?.fail(HTTPClientError.cancelled)
        writerDone = nil
        writer = nil
        source = nil
    }

    /// Takes the next event, handling request-body demand along the way.
    private func nextEvent() throws -> Mailbox.Event {
        while true {
            let event = mailbox.take()
            switch event {
            case let .writer(w, done):
                writer = w
                writerDone = done
                try feed()
            case let .wrote(result):
                inFlight -= 1
                switch result {
                case let .success(n):
                    bodySent?(n)
                    try feed()
                case .failure:
                    // The server stopped reading (e.g. answered early); the
                    // head or an error follows.
                    writerDone?.succeed(())
                    writerDone = nil
                    writer = nil
                }
            case let .failure(error):
                finished = true
                mailbox.close()
                writerDone?.fail(error)
                writerDone = nil
                throw error
            default:
                return event
            }
        }
    }

    /// Keeps up to `maxInFlight` blocks of the request body being written,
    /// and ends the body when all are written.
    private func feed() throws {
        while let writer, let done = writerDone {
            if remaining <= 0 || source == nil {
                if inFlight == 0 {
                    done.succeed(())
                    writerDone = nil
                    self.writer = nil
                    source = nil
                }
                return
            }
            guard inFlight < Exchange.maxInFlight else { return }
            try writeBlock(writer, done)
        }
    }

    /// Reads the next block of the file and hands it to the connection.
    private func writeBlock(_ writer: HTTPClient.Body.StreamWriter, _ done: EventLoopPromise<Void>) throws {
        guard let src = source else { return }
        let want = Int(min(Int64(chunkSize), remaining))
        var buffer = allocator.buffer(capacity: want)
        let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { ptr in
            var filled = 0
            while filled < want {
                let got = try src.read(into: UnsafeMutableRawBufferPointer(rebasing: ptr[filled..<want]))
                if got == 0 { break }
                filled += got
            }
            return filled
        }
        guard n == want else {
            done.fail(HTTPClientError.cancelled)
            writerDone = nil
            throw CoreError.malformed(context: src.path, message: "file shrank while uploading (\(remaining - Int64(n)) bytes missing)")
        }
        remaining -= Int64(n)
        inFlight += 1
        let box = mailbox
        let count = Int64(n)
        writer.write(.byteBuffer(buffer)).whenComplete { result in
            box.post(.wrote(result.map { count }))
        }
    }
}

/// Receives async-http-client's callbacks on an event loop and posts them.
private final class ExchangeDelegate: HTTPClientResponseDelegate {
    typealias Response = Void
    let mailbox: Mailbox

    init(mailbox: Mailbox) { self.mailbox = mailbox }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        mailbox.post(.head(head))
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let promise = task.eventLoop.makePromise(of: Void.self)
        mailbox.postBody(buffer, promise)
        return promise.futureResult
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: Error) {
        mailbox.post(.failure(error))
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        mailbox.post(.end)
    }
}
