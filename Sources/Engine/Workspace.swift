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
        if buffers[slot] == nil || capacities[slot] < count {             // a first borrow of 0 still gets a buffer
            buffers[slot]?.deallocate()
            buffers[slot] = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            capacities[slot] = max(count, 1)
        }
        let p = buffers[slot]!
        lock.unlock()
        defer { lock.lock(); busy[slot] = false; lock.unlock() }
        return try body(p)
    }
}

/// glibc's mallopt (malloc.h is not in Swift's Glibc module); parameters from malloc.h.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_THRESHOLD: Int32 = -3, M_MMAP_MAX: Int32 = -4

/// Process-wide allocator settings for the engine's large, short-lived buffers.
public enum MemoryTuning {
    /// Keeps freed large blocks in the heap instead of returning them to the kernel, so the next pass reuses them
    /// without page faults: glibc otherwise maps each block over 128 KB (at most 32 MB) afresh and the kernel
    /// zero-fills every page on first touch; a VGG input gradient at batch 16 is 92 MB. Call once at start-up. CONVLENS_MALLOC_DEFAULT=1 leaves glibc's defaults, to measure the difference.
    public static func keepFreedMemory() {
        if getenv("CONVLENS_MALLOC_DEFAULT") != nil { return }
        #if os(Linux)
        _ = glibcMallopt(M_MMAP_MAX, 0)               // every block from the heap, even above 32 MB
        _ = glibcMallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }
}
