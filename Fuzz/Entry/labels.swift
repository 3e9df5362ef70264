// libFuzzer's entry point for the labels target; Scripts/fuzz.sh compiles it with Targets/FuzzLabels.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzLabels(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
