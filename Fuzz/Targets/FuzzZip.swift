// Fuzz target: the zip reader (end records, zip64, central directory, local headers, inflate) and the torch zip
// checkpoint on top of it.
#if !FUZZING
@testable import TensorIO
#endif

/// Opens `data` as a zip, reads every entry, then reads it as a torch checkpoint; none may trap.
/// - Parameters:
///   - data: the bytes of a would-be zip archive.
func fuzzZip(_ data: UnsafeRawBufferPointer) {
    if let zip = try? ZipArchive(data, file: "fuzz", limits: .default) {
        for entry in zip.entries {
            // Bounded here as TorchCheckpoint bounds its entries: an entry may claim gigabytes.
            _ = try? zip.contents(entry, upTo: 1 << 24).withBytes { $0.count }
        }
    }
    _ = try? TorchCheckpoint.parse(data, name: "fuzz", limits: .default)
}
