import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A queue between event loops (posting) and one caller thread (taking).
/// After `close()`, posted promises are completed at once so none leaks.
final class Mailbox: @unchecked Sendable {
    enum Event {
        case writer(HTTPClient.Body.StreamWriter, EventLoopPromise<Void>)
        case wrote(Result<Int64, Error>)
        case head(HTTPResponseHead)
        /// A body part, with its promise when it is held back for backpressure.
        case body(ByteBuffer, EventLoopPromise<Void>?)
        case end
        case failure(Error)
    }

    private let condition = NSCondition()
    private var events: [Event] = []
    private var closed = false
    /// Response-body bytes queued and not yet taken.
    private var queuedBytes = 0
    /// Below this many queued bytes a body part's promise is completed at
    /// once, so the connection keeps reading while the caller consumes;
    /// above it the part's promise waits until the part is taken.
    static let bodyBufferBytes = 1 << 20

    /// Queues a response-body part. Its promise is completed now when the
    /// queue is short, else when the caller takes the part (backpressure).
    func postBody(_ buffer: ByteBuffer, _ promise: EventLoopPromise<Void>) {
        condition.lock()
        if closed {
            condition.unlock()
            promise.succeed(())
            return
        }
        queuedBytes += buffer.readableBytes
        let hold = queuedBytes > Mailbox.bodyBufferBytes
        events.append(.body(buffer, hold ? promise : nil))
        condition.signal()
        condition.unlock()
        if !hold { promise.succeed(()) }
    }

    func post(_ event: Event) {
        condition.lock()
        if closed {
            condition.unlock()
            Mailbox.release(event)
            return
        }
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    func take() -> Event {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty {
            if closed { return .failure(HTTPClientError.cancelled) }
            condition.wait()
        }
        let event = events.removeFirst()
        if case let .body(buffer, _) = event { queuedBytes -= buffer.readableBytes }
        return event
    }

    /// Refuses further events and releases queued ones.
    func close() {
        condition.lock()
        closed = true
        let pending = events
        events.removeAll()
        condition.broadcast()
        condition.unlock()
        pending.forEach(Mailbox.release)
    }

    private static func release(_ event: Event) {
        switch event {
        case let .writer(_, done): done.fail(HTTPClientError.cancelled)
        case let .body(_, promise): promise?.succeed(())
        default: break
        }
    }
}
