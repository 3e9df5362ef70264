// Class-name files: one name per line, as torchvision's imagenet_classes.txt and Keras's lists are written.
import Support

public enum Labels {
    /// Reads a class-name file through the input boundary (a regular file of at most 4 MiB) and parses it.
    /// - Parameters:
    ///   - path: the file.
    ///   - count: the number of classes the model has; the file must name exactly that many.
    public static func read(_ path: String, count: Int) throws -> [String] {
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, as: .labels)
        } catch let error as InputFileError {
            throw TensorFileError(file: path, error.problem)
        }
        return try parse(bytes, file: path, count: count)
    }

    /// Splits a class-name file into names, one per line. Lines end in LF or CR LF (the bytes are split before they
    /// become Swift text, where "\r\n" is one Character); the last may end without one; a UTF-8 byte order mark is
    /// dropped. Control characters left in a name come out escaped (`\t`, `\x1b`), so a name cannot break a line of
    /// output or steer a terminal.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - file: its name for messages.
    ///   - count: the number of names expected.
    public static func parse(_ bytes: [UInt8], file: String, count: Int) throws -> [String] {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var lines = body.split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the final newline ends a line; it does not start one
        guard lines.count == count else {
            throw TensorFileError(file: file, "labels file has \(lines.count) lines, but the model has \(count) classes; "
                + "give one name per line")
        }
        return try lines.enumerated().map { i, line in
            let text = line.last == 0x0D ? line.dropLast() : line
            guard let name = String(validating: text, as: UTF8.self) else {
                throw TensorFileError(file: file, "labels file is not UTF-8 text (line \(i + 1)); save it as UTF-8")
            }
            return name.printable
        }
    }
}
