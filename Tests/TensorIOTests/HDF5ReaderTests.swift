// The HDF5 reader against h5py's reading of the same files, and on the bad files of issue 15. The files and the
// expected values come from Scripts/make_keras_fixtures.py (h5py 3.16, libhdf5 1.14), e.g.:
//
//     with h5py.File("default.h5", "w") as f:                      # and libver="latest"; and chunks, gzip, shuffle
//         f.create_group("group/nested").create_dataset("f32", data=rng.standard_normal((3, 4, 5)).astype(np.float32))
//         f.attrs["names"] = [b"conv1", b"bn_conv1", b"fc1000"]     # variable-length strings in a global heap
//     manifest[path] = {"shape": list(obj.shape), "values": np.asarray(obj[()], np.float64).ravel().tolist()}
import Foundation
import Testing
@testable import TensorIO

/// Tests/Fixtures/keras/<name>.
func kerasFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/keras/" + name).path
}

@Suite struct HDF5ReaderTests {
    nonisolated(unsafe) static let manifest: [String: Any] = {
        let data = FileManager.default.contents(atPath: kerasFixture("hdf5/manifest.json")) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }()

    @Test("every dataset and attribute equals h5py's reading", arguments: ["default.h5", "latest.h5", "chunked.h5"])
    func matchesH5py(_ name: String) throws {
        let expected = try #require(Self.manifest[name] as? [String: Any])
        let file = try HDF5File.load(kerasFixture("hdf5/" + name))
        let datasets = expected["datasets"] as! [String: [String: Any]]
        // h5py visits an object once; the reader lists it under each of its hard links.
        #expect(Set(file.datasets.keys) == Set(datasets.keys).union(["group/hard_link", "group/nested/f16"]))
        for (path, d) in datasets {
            let got = try #require(file.datasets[path], "\(name): no dataset \(path)")
            let values = (d["values"] as! [Double]).map { Float($0) }
            let diff = zip(got.floats, values).map { abs($0 - $1) }.max() ?? 0
            print("\(name) \(path): \(got.elementType) \(got.shape) maxdiff \(diff)")
            #expect(got.shape == d["shape"] as! [Int], "\(name) \(path)")
            #expect(got.floats.count == values.count && diff == 0, "\(name) \(path): values differ by \(diff)")
            let dtype = (d["dtype"] as! String).replacingOccurrences(of: ">", with: "").replacingOccurrences(of: "<", with: "")
            #expect(got.elementType == dtype, "\(name) \(path): \(got.elementType) vs h5py's \(dtype)")
            if dtype == "int64" { #expect(got.ints == (d["values"] as! [Double]).map { Int($0) }) }
        }
        for (path, attrs) in expected["attributes"] as! [String: [String: [Any]]] {
            for (key, value) in attrs {
                let got = try #require(file.attribute(path, key), "\(name): no attribute \(key) on '\(path)'")
                switch got {
                case let .strings(s): #expect(s == value as? [String], "\(name) '\(path)' \(key)")
                case let .floats(f): #expect(f == (value as! [Double]).map { Float($0) }, "\(name) '\(path)' \(key)")
                case let .ints(i): #expect(i.map(Double.init) == value as? [Double], "\(name) '\(path)' \(key)")
                case let .unsupported(t): Issue.record("\(name) '\(path)' \(key): unsupported \(t)")
                }
            }
        }
        #expect(Set(file.groups["group"] ?? []) == ["hard_link", "more", "nested"])
    }

    /// The error a bad file gives, as one line.
    func refusal(_ path: String) -> String {
        do {
            _ = try HDF5File.load(path)
            return "accepted"
        } catch { return "\(error)" }
    }

    @Test func truncatedFileIsRefused() {
        let e = refusal(kerasFixture("hostile/truncated.h5"))
        print(e)
        #expect(e.hasPrefix(kerasFixture("hostile/truncated.h5") + ": ") && e.contains("truncated") && !e.contains("\n"))
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocating() {
        let e = refusal(kerasFixture("hostile/absurd.h5"))
        print(e)
        #expect(e.contains("'w'") && (e.contains("overflows") || e.contains("past the end")) && !e.contains("\n"))
    }

    @Test func denseLinkStorageIsRefusedByName() {
        let e = refusal(kerasFixture("hdf5/dense.h5"))
        print(e)
        #expect(e.contains("fractal heap") && e.contains("the root group") && !e.contains("\n"))
    }

    @Test func externalLinkIsRefused() {
        let e = refusal(kerasFixture("hostile/external.h5"))
        print(e)
        #expect(e.contains("external link 'conv'") && !e.contains("\n"))
    }

    @Test("every prefix of a file is refused or read, never a trap")
    func everyPrefixOfAFile() throws {
        let bytes = try FileBytes.read(kerasFixture("hdf5/latest.h5"))
        var refused = 0
        for n in stride(from: 0, to: bytes.count, by: 7) {
            do { _ = try bytes[..<n].withUnsafeBytes { try HDF5File.parse($0, source: "cut") } } catch { refused += 1 }
        }
        #expect(refused > 0)
    }

    @Test func budgetBoundsTheDecodedSize() throws {
        var limits = HDF5Limits()
        limits.budgetFloor = 64
        limits.budgetFactor = 0
        let bytes = try FileBytes.read(kerasFixture("hdf5/default.h5"))
        #expect(throws: TensorFileError.self) { try bytes.withUnsafeBytes { try HDF5File.parse($0, source: "small budget", limits: limits) } }
    }
}
