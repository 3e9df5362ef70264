import Analysis
import Foundation
import Support

/// One image of a dataset run: its path and, from a JSON Lines manifest, the target it asks for.
public struct ManifestItem: Equatable, Sendable {
    public let path: String
    /// This image's target (JSON Lines manifests only); nil runs the command's own (the top class, `--class` or `--target`).
    public let target: ItemTarget?
    public init(path: String, target: ItemTarget? = nil) {
        self.path = path
        self.target = target
    }
}

/// The images of a dataset run, from a directory, a text file of paths, standard input or a JSON Lines file.
public enum Manifest {
    /// The image files a directory contributes (the extensions, lower-cased).
    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]
    /// The largest manifest file or standard input read (about 10 million paths).
    public static let maxBytes = 1 << 30

    /// Whether a command's image arguments name a manifest instead of images: one argument that is `-`, a
    /// directory, a `.txt`/`.lst` file of paths or a `.jsonl` file.
    public static func names(_ arguments: [String]) -> Bool {
        guard arguments.count == 1, let a = arguments.first else { return false }
        var isDir: ObjCBool = false
        return a == "-" || ["txt", "lst", "jsonl"].contains(URL(fileURLWithPath: a).pathExtension.lowercased())
            || FileManager.default.fileExists(atPath: a, isDirectory: &isDir) && isDir.boolValue
    }

    /// Reads a manifest.
    /// - Parameters:
    ///   - source: `-` (paths on standard input, one a line), a directory (its image files, recursively, in byte
    ///     order of their paths), a `.jsonl` file (`{"path": P, "target": T}` a line, T as `--target` takes it or a
    ///     class index) or a text file of paths. Relative paths in a file (and a mask target's file) are taken from
    ///     the file's directory; blank lines and lines starting with `#` are skipped.
    ///   - standardInput: reads standard input to its end.
    /// - Throws: a `FileError` naming the manifest when it is unreadable, has a bad line, or lists no image. A bad
    ///   target is not thrown: its item carries it and fails alone.
    public static func load(_ source: String, standardInput: () -> [UInt8] = { Array(FileHandle.standardInput.readDataToEndOfFile()) })
        throws -> [ManifestItem] {
        var isDir: ObjCBool = false
        let items: [ManifestItem]
        if source == "-" {
            items = try parse(standardInput(), name: "standard input", base: nil, json: false)
        } else if FileManager.default.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue {
            items = try directory(source)
        } else {
            let bytes = try InputFile.read(source, as: InputFile.Kind("a manifest", maxBytes: maxBytes))
            let base = URL(fileURLWithPath: source).deletingLastPathComponent().path
            items = try parse(bytes, name: source, base: base, json: URL(fileURLWithPath: source).pathExtension.lowercased() == "jsonl")
        }
        guard !items.isEmpty else {
            throw FileError(path: source == "-" ? "standard input" : source,
                            message: isDir.boolValue ? "holds no PNG or JPEG files (.png, .jpg, .jpeg)" : "lists no images")
        }
        return items
    }

    /// The image files under `root`, recursively, sorted by the bytes of their paths (the same on every machine).
    /// Hidden entries are skipped; symbolic links to files are followed, links to directories are not (no loops).
    static func directory(_ root: String) throws -> [ManifestItem] {
        var found: [String] = [], pending = [root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root]
        while let dir = pending.popLast() {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
                throw FileError(path: dir, message: "cannot list the directory: \((error as NSError).localizedDescription)")
            }
            for name in names where !name.hasPrefix(".") {
                let path = dir + "/" + name
                var st = stat()
                guard lstat(path, &st) == 0 else { continue }
                if st.st_mode & S_IFMT == S_IFDIR { pending.append(path); continue }
                if imageExtensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()) { found.append(path) }
            }
        }
        return found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { ManifestItem(path: $0) }
    }

    /// The items of a text or JSON Lines manifest; a bad line is bad input naming the line.
    static func parse(_ bytes: [UInt8], name: String, base: String?, json: Bool) throws -> [ManifestItem] {
        guard bytes.count <= maxBytes else { throw FileError(path: name, message: "is over \(byteCount(maxBytes)); split the manifest") }
        var items: [ManifestItem] = []
        // Lines split on the byte: a String would read "\r\n" as one character.
        for (number, raw) in bytes.split(separator: 10, omittingEmptySubsequences: false).enumerated() {
            let line = Substring(String(decoding: raw.last == 13 ? raw.dropLast() : raw, as: UTF8.self))
            if line.allSatisfy(\.isWhitespace) || line.hasPrefix("#") { continue }
            func bad(_ problem: String) -> FileError { FileError(path: name, message: "line \(number + 1): \(problem)") }
            var path = String(line), target: ItemTarget?
            if json {
                let text: String?
                do { (path, text) = try jsonLine(line) } catch { throw bad("\(error)") }
                target = text.map { ItemTarget($0, origin: "\(name): line \(number + 1)", base: base) }
            }
            if let base, !path.hasPrefix("/") { path = base + "/" + path }
            items.append(ManifestItem(path: path, target: target))
        }
        return items
    }

    /// The path and target text of one JSON Lines item, `{"path": "a.png", "target": "prob:281"}`: a string target as
    /// it is, a number as a class logit ("class:281"), anything else as text no parser takes; absent or null, nil.
    static func jsonLine(_ line: Substring) throws -> (path: String, target: String?) {
        struct Target: Decodable {
            let text: String
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { text = s }
                else if let i = try? c.decode(Int.self) { text = "class:\(i)" }
                else if let d = try? c.decode(Double.self) { text = "class:\(d)" }   // "class:2.5": the parser names it
                else { text = "a JSON value that is neither a string nor a number" }
            }
        }
        struct Line: Decodable { let path: String; let target: Target? }
        let item: Line
        do { item = try JSONDecoder().decode(Line.self, from: Data(line.utf8)) } catch {
            throw UsageError("not a JSON object with a \"path\" string; each line must be {\"path\": \"...\", \"target\": ...}")
        }
        guard !item.path.isEmpty else { throw UsageError("an empty \"path\"") }
        return (item.path, item.target?.text)
    }
}

/// A per-image target as a JSON Lines manifest gives it: any text `--target` takes ("prob:281", "mask:15@m.png"),
/// or a bare class index (281, read as "class:281"). `CAMTargetSpec(parsing:)`, the one parser, reads it; a target
/// that does not parse is kept with its problem, so that its item fails alone and the run goes on.
public struct ItemTarget: Equatable, Sendable {
    /// The target as written ("class:281" for a bare 281): the index line's `given_target` and part of the item's key.
    public let text: String
    /// Where the manifest gives it, "m.jsonl: line 3", which every error about it starts with.
    public let origin: String
    /// The parsed target (a mask's file taken from the manifest's folder), or why it does not parse.
    public let parsed: Result<CAMTargetSpec, Problem>

    /// Why a target cannot be used, starting with its manifest and line.
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Parses a target's text.
    /// - Parameters:
    ///   - origin: the manifest and line, for errors.
    ///   - base: the folder a relative mask file is taken from (the manifest's).
    public init(_ text: String, origin: String, base: String? = nil) {
        self.text = text
        self.origin = origin
        do {
            var spec = try CAMTargetSpec(parsing: text)
            if case let .mask(c, file) = spec, let base, !file.hasPrefix("/") { spec = .mask(class: c, file: base + "/" + file) }
            parsed = .success(spec)
        } catch {
            parsed = .failure(Problem(description: "\(origin): \(error)"))
        }
    }

    /// The target, with a mask file read, and checked by `check` (against the model's output).
    /// - Throws: a `Problem` naming the manifest and line, then what is wrong.
    public func resolve(check: ((CAMTarget) throws -> Void)? = nil) throws -> CAMTarget {
        let spec = try parsed.get()
        do {
            let t = try spec.resolve()
            try check?(t)
            return t
        } catch {
            throw Problem(description: "\(origin): target '\(text)': \(error)")
        }
    }
}
