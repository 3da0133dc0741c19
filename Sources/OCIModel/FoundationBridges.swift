import Foundation

/// JSONSerialization yields NSNull and NSNumber; these aliases keep the
/// parsing code readable.
typealias NSNullLike = NSNull
typealias NSNumberLike = NSNumber
