import Testing
@testable import Engine

/// The shared scratch: a first borrow of nothing (a pointwise convolution needs no im2col matrix) must still lend a
/// pointer instead of unwrapping an empty slot, and a busy slot lends a private buffer of the size asked.
@Suite struct WorkspaceTests {
    @Test func firstBorrowOfZeroOnEverySlot() {
        let w = Workspace()
        for slot in 0 ..< 3 {
            let touched = w.borrow(0, slot: slot) { _ in true }
            #expect(touched)
        }
        // A later, larger borrow grows the slot and the memory is usable end to end.
        let sum = w.borrow(1000, slot: 1) { p -> Float in
            for i in 0 ..< 1000 { p[i] = 1 }
            return (0 ..< 1000).reduce(0) { $0 + p[$1] }
        }
        #expect(sum == 1000)
    }

    @Test func busySlotLendsAPrivateBuffer() {
        let w = Workspace()
        w.borrow(4, slot: 0) { outer in
            outer[0] = 7
            w.borrow(8, slot: 0) { inner in
                #expect(inner != outer)
                for i in 0 ..< 8 { inner[i] = 0 }
            }
            #expect(outer[0] == 7)
        }
    }
}
