// libFuzzer's entry point for the image target; Scripts/fuzz.sh compiles it with Targets/FuzzImage.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzImage(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
