// libFuzzer's entry point for the Keras target; Scripts/fuzz.sh compiles it with Targets/FuzzKeras.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzKeras(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
