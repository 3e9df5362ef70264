// libFuzzer's entry point for the zip target; Scripts/fuzz.sh compiles it with Targets/FuzzZip.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzZip(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
