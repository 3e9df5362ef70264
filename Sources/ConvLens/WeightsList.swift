import Foundation
import Support
import TensorIO

/// `convlens weights list`: what is installed in Weights/, checked against Weights/models.json.
public enum WeightsList {
    public struct Row: Codable {
        public let name: String
        public let file: String
        public let bytes: Int?
        public let sha256: String?
        /// "ok", "missing", "modified" (the sum differs from the manifest) or "imported" (not in the manifest).
        public let status: String
        public let source: String
    }

    struct Manifest: Decodable {
        struct Entry: Decodable {
            struct Source: Decodable { let pypi: String?; let member: String? }
            let name: String
            let file: String
            let sha256: String?
            let source: Source?
        }
        let models: [Entry]
    }

    /// One row per manifest entry, then one per other .safetensors file in the folder.
    public static func rows() throws -> [Row] {
        let dir = Environment.weightsDirectory
        let fm = FileManager.default
        var entries: [Manifest.Entry] = []
        if let data = fm.contents(atPath: dir + "/models.json") {
            do { entries = try JSONDecoder().decode(Manifest.self, from: data).models } catch {
                throw FileError(path: dir + "/models.json", message: "is not a valid manifest: \(error)")
            }
        }
        func describe(_ path: String) -> (Int, String)? {
            guard let data = fm.contents(atPath: path) else { return nil }
            return (data.count, SHA256.hex([UInt8](data)))
        }
        var rows = entries.map { e -> Row in
            let source = [e.source?.pypi, e.source?.member].compactMap { $0 }.joined(separator: ", ")
            guard let (size, sum) = describe(dir + "/" + e.file) else {
                return Row(name: e.name, file: e.file, bytes: nil, sha256: nil, status: "missing", source: source)
            }
            return Row(name: e.name, file: e.file, bytes: size, sha256: sum, status: e.sha256 == nil || e.sha256 == sum ? "ok" : "modified", source: source)
        }
        let known = Set(entries.map(\.file))
        let others = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".safetensors") && !known.contains($0) }.sorted()
        for file in others {
            guard let (size, sum) = describe(dir + "/" + file) else { continue }
            let meta = (try? Safetensors.read(dir + "/" + file).metadata) ?? [:]
            rows.append(Row(name: meta["arch"] ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent, file: file, bytes: size,
                            sha256: sum, status: "imported", source: meta["source"].map { "imported from \($0)" } ?? "imported"))
        }
        return rows
    }

    /// The rows as an aligned table.
    public static func text(_ rows: [Row]) -> String {
        var out = "model               file                                  size      status    sha256            source\n"
        for r in rows {
            let size = r.bytes.map { String(format: "%.1f MB", Double($0) / 1e6) } ?? "-"
            out += pad(r.name, 20) + pad(r.file, 38) + pad(size, 10) + pad(r.status, 10) + pad(String((r.sha256 ?? "-").prefix(16)), 18) + r.source + "\n"
        }
        return out
    }
}
