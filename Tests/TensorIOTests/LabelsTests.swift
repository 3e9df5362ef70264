// Class-name files: LF, CR LF, a missing final newline, a byte order mark, the count, UTF-8, control characters.
import Foundation
import Testing
@testable import TensorIO

@Test func labelsLineEndings() throws {
    let names = ["tench", "goldfish", "great white shark"]
    let files: [(String, String)] = [
        ("LF", "tench\ngoldfish\ngreat white shark\n"), ("CR LF", "tench\r\ngoldfish\r\ngreat white shark\r\n"),
        ("no final newline", "tench\ngoldfish\ngreat white shark"), ("CR LF, none at the end", "tench\r\ngoldfish\r\ngreat white shark"),
        ("mixed", "tench\r\ngoldfish\ngreat white shark\r\n"), ("byte order mark", "\u{FEFF}tench\ngoldfish\ngreat white shark\n"),
    ]
    for (what, text) in files {
        #expect(try Labels.parse(Array(text.utf8), file: "l.txt", count: 3) == names, "\(what)")
    }
    #expect(try Labels.parse(Array("a\n\nc\n".utf8), file: "l.txt", count: 3) == ["a", "", "c"])  // an empty line is a name
    #expect(try Labels.parse([], file: "l.txt", count: 0) == [])
}

@Test func labelsCountAndEncoding() {
    // Swift's String sees "\r\n" as one Character: splitting text on "\n" found 1 line here before the bytes were split.
    let crlf = Array((0 ..< 1000).map { "class \($0)\r\n" }.joined().utf8)
    expectError("crlf.txt: labels file has 1000 lines, but the model has 999 classes; give one name per line") {
        try Labels.parse(crlf, file: "crlf.txt", count: 999)
    }
    expectError("latin1.txt: labels file is not UTF-8 text (line 2)") {
        try Labels.parse(Array("ok\ncaf".utf8) + [0xE9] + Array("\n".utf8), file: "latin1.txt", count: 2)
    }
    expectError("x\\ty.txt: labels file has 1 lines") { try Labels.parse(Array("a\n".utf8), file: "x\ty.txt", count: 2) }
}

@Test func labelsControlCharactersAreEscaped() throws {
    let text = "plain\ncat\u{1b}[2J\u{07}\ntab\there\nlone\rreturn\nrtl\u{202E}txt.exe\nкошка\n"
    #expect(try Labels.parse(Array(text.utf8), file: "l.txt", count: 6)
            == ["plain", "cat\\u{1B}[2J\\u{7}", "tab\\there", "lone\\rreturn", "rtl\\u{202E}txt.exe", "кошка"])
}

/// What is not a regular file, or too large, is refused before reading: a FIFO (whose open would block), /dev/zero
/// (which never ends), a 100 GB sparse file.
@Test func labelsFileIsCheckedAtTheBoundary() throws {
    let dir = NSTemporaryDirectory() + "labels-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    #expect(mkfifo(dir + "/fifo", 0o644) == 0)
    expectError(dir + "/fifo: is a named pipe (FIFO), not a regular file; give a labels file as a regular file") {
        try Labels.read(dir + "/fifo", count: 1000)
    }
    expectError("/dev/zero: is a character device, not a regular file") { try Labels.read("/dev/zero", count: 1000) }
    _ = FileManager.default.createFile(atPath: dir + "/huge.txt", contents: Data("a\n".utf8))
    #expect(truncate(dir + "/huge.txt", 100_000_000_000) == 0)
    expectError(dir + "/huge.txt: is 100.0 GB, over the 4.2 MB limit for a labels file") { try Labels.read(dir + "/huge.txt", count: 1) }
    expectError(dir + "/nope.txt: no such file") { try Labels.read(dir + "/nope.txt", count: 1) }
    expectError(dir + ": is a directory, not a labels file") { try Labels.read(dir, count: 1) }
}
