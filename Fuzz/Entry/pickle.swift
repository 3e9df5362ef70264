// libFuzzer's entry point for the pickle target; Scripts/fuzz.sh compiles it with Targets/FuzzPickle.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzPickle(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
