// Fuzz target: class-name files. Arbitrary bytes are split into names, with the count the file itself implies (so
// that most inputs get past the count check) and with ImageNet's 1000; every name that comes out must be printable.
#if !FUZZING
@testable import TensorIO
#endif

/// Parses `data` as a labels file; it either parses or throws, and what it returns is one name per line with no
/// control character left in it.
/// - Parameters:
///   - data: the bytes of a would-be labels file.
func fuzzLabels(_ data: UnsafeRawBufferPointer) {
    let bytes = Array(data)
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).count
    if bytes.last == 0x0A { lines -= 1 }
    for count in [lines, 1000] {
        guard let names = try? Labels.parse(bytes, file: "fuzz", count: count) else { continue }
        precondition(names.count == count, "\(names.count) names for \(count) lines")
        for name in names {
            precondition(!name.unicodeScalars.contains { s in
                s.value < 0x20 || (0x7F ... 0x9F).contains(s.value) || (0x202A ... 0x202E).contains(s.value)
                    || (0x2066 ... 0x2069).contains(s.value)
            }, "a control character survived in \(name.debugDescription)")
        }
    }
}
