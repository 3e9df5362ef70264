// LeakSanitizer's built-in suppressions for the test bundle (`swift test --sanitize=address`), for leaks that are
// not ours and that would otherwise fail the run:
//   - XCTest 6.3 leaks its own XCTestSuiteRun objects when a bundle has no XCTest tests (ours are swift-testing);
//   - swift-corelibs-foundation's Process.run leaks a weak-reference side table per launched process;
//   - fontconfig, under Cairo in the Render tests, keeps its configuration and caches until exit on purpose.
// Only those libraries' allocations are suppressed: the tests' own, our libraries' and every `convlens` process the
// CLI tests start are still checked.

/// Called by LeakSanitizer at exit, when the bundle is built with AddressSanitizer; never called otherwise.
@_cdecl("__lsan_default_suppressions")
public func lsanDefaultSuppressions() -> UnsafePointer<CChar> {
    let list: StaticString = "leak:libXCTest.so\nleak:10Foundation7ProcessC3runyyKF\nleak:libfontconfig.so\n"
    return UnsafeRawPointer(list.utf8Start).assumingMemoryBound(to: CChar.self)
}
