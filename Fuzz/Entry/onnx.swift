// libFuzzer's entry point for the ONNX target; Scripts/fuzz.sh compiles it with Targets/FuzzONNX.swift.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzONNX(UnsafeRawBufferPointer(start: bytes, count: count))
    return 0
}
