// libFuzzer's entry point for the kernels target; Scripts/fuzz.sh compiles it with Targets/FuzzKernels.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzKernels(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
