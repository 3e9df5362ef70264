// libFuzzer's entry point for the safetensors target; Scripts/fuzz.sh compiles it with Targets/FuzzSafetensors.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzSafetensors(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
