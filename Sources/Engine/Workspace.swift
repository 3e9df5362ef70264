import Foundation

/// Scratch memory shared by the layers (im2col matrices, Winograd tiles), so the hot path allocates nothing once
/// the largest buffer has been seen. A caller that finds the buffer busy (another thread) gets a private one.
public final class Workspace: @unchecked Sendable {
    public static let shared = Workspace()
    private var buffers: [UnsafeMutablePointer<Float>?] = [nil, nil, nil]
    private var capacities = [0, 0, 0]
    private var busy = [false, false, false]
    private let lock = NSLock()

    /// Lends `count` floats of scratch (contents unspecified) from slot `slot` (0–2, for nested use) to `body`.
    public func borrow<R>(_ count: Int, slot: Int = 0, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        lock.lock()
        if busy[slot] {
            lock.unlock()
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            defer { p.deallocate() }
            return try body(p)
        }
        busy[slot] = true
        if capacities[slot] < count {
            buffers[slot]?.deallocate()
            buffers[slot] = UnsafeMutablePointer<Float>.allocate(capacity: count)
            capacities[slot] = count
        }
        let p = buffers[slot]!
        lock.unlock()
        defer { lock.lock(); busy[slot] = false; lock.unlock() }
        return try body(p)
    }
}
