import Testing
import ConvLens
import Engine
import Foundation
import Support

/// Manifests, shards and the thread limit: pure functions of their inputs, checked against hand-made cases and,
/// for shards, a property over random manifests.
@Suite struct DatasetManifestTests {
    /// A fresh temporary directory, removed by the caller.
    static func tempDir(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("convlens-\(name)-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aDirectoryGivesItsImagesRecursivelyInByteOrderWithoutHiddenOrOtherFiles() throws {
        let dir = try Self.tempDir("manifest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["b", "a/z", ".hidden"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        for f in ["b/2.PNG", "a/z/1.jpg", "a/B.jpeg", "a/a.png", "notes.txt", ".hidden/x.png", "a/.y.png"] {
            #expect(FileManager.default.createFile(atPath: dir + "/" + f, contents: Data([1])))
        }
        try FileManager.default.createSymbolicLink(atPath: dir + "/b/link.png", withDestinationPath: dir + "/a/a.png")
        let paths = try Manifest.load(dir).map { String($0.path.dropFirst(dir.count + 1)) }
        // Byte order: uppercase before lowercase, "a/B.jpeg" < "a/a.png" < "a/z/1.jpg".
        #expect(paths == ["a/B.jpeg", "a/a.png", "a/z/1.jpg", "b/2.PNG", "b/link.png"])
        #expect(Manifest.names([dir]) && Manifest.names(["-"]) && Manifest.names(["x.jsonl"]) && !Manifest.names(["x.png"]))
        #expect(!Manifest.names([dir, dir]))
    }

    @Test func aTextManifestTakesRelativePathsFromItsFolderAndSkipsCommentsAndBlankLines() throws {
        let dir = try Self.tempDir("list")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "# images\nx.png\r\n\n/abs/y.jpg\n  \nsub/z.png".write(toFile: dir + "/list.txt", atomically: true, encoding: .utf8)
        #expect(try Manifest.load(dir + "/list.txt") == [ManifestItem(path: dir + "/x.png"), ManifestItem(path: "/abs/y.jpg"),
                                                         ManifestItem(path: dir + "/sub/z.png")])
        #expect(try Manifest.load("-", standardInput: { Array("a.png\nb.png\n".utf8) }) == [ManifestItem(path: "a.png"), ManifestItem(path: "b.png")])
        #expect { try Manifest.load("-", standardInput: { Array("# nothing\n".utf8) }) } throws: { "\($0)" == "standard input: lists no images" }
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        #expect { try Manifest.load(dir + "/empty") } throws: { "\($0)".hasSuffix("empty: holds no PNG or JPEG files (.png, .jpg, .jpeg)") }
    }

    @Test func aJSONLinesManifestGivesPathsAndTargetsAndNamesABadLine() throws {
        let dir = try Self.tempDir("jsonl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{\"path\": \"a.png\", \"target\": 281}\n{\"path\": \"/b.png\"}\n{\"path\": \"c.png\", \"target\": null}\n"
            .write(toFile: dir + "/m.jsonl", atomically: true, encoding: .utf8)
        #expect(try Manifest.load(dir + "/m.jsonl") == [ManifestItem(path: dir + "/a.png", target: 281), ManifestItem(path: "/b.png"),
                                                        ManifestItem(path: dir + "/c.png")])
        for (line, problem) in [("{\"path\": \"a.png\", \"target\": 2.5}", "class index"), ("{\"path\": \"a.png\", \"target\": -1}", "class index"),
                                ("{\"path\": \"a.png\", \"target\": \"cat\"}", "class index"), ("{\"target\": 3}", "\"path\""),
                                ("not json", "\"path\""), ("{\"path\": \"\"}", "empty")] {
            try "{\"path\": \"ok.png\"}\n\(line)\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
            do {
                _ = try Manifest.load(dir + "/bad.jsonl")
                Issue.record("\(line) was accepted")
            } catch {
                #expect("\(error)".contains("line 2") && "\(error)".contains(problem), "\(line): \(error)")
            }
        }
    }

    @Test func shardsOfRandomManifestsCoverEveryPathExactlyOnce() {
        var rng = SplitMix64(17)
        for _ in 0 ..< 200 {
            let n = Int(rng.next() % 300), parts = 1 + Int(rng.next() % 9)
            let paths = (0 ..< n).map { i in "d\(rng.next() % 7)/img_\(i)_\(rng.next() % 1000).png" }
            let owners = paths.map { p in (0 ..< parts).filter { Shard(index: $0, count: parts).contains(p) } }
            #expect(owners.allSatisfy { $0.count == 1 }, "\(parts) shards over \(n) paths")
            if n >= 100 && parts <= 3 {                              // every shard gets a fair share
                let sizes = (0 ..< parts).map { s in owners.filter { $0 == [s] }.count }
                #expect(sizes.allSatisfy { $0 > n / parts / 2 }, "shard sizes \(sizes)")
            }
        }
    }

    @Test func theShardHashIsStableAcrossMachines() {
        // Python: FNV-1a 64 over the UTF-8 bytes, then SplitMix64's finaliser (x ^= x>>30; x *= 0xbf58476d1ce4e5b9;
        // x ^= x>>27; x *= 0x94d049bb133111eb; x ^= x>>31) gives 0xcaae0350219de925 for 'data/a/c1.png', 0xf52a15e9a9b5e89b for ''.
        #expect(Shard.hash("data/a/c1.png") == 0xcaae_0350_219d_e925)
        #expect(Shard.hash("") == 0xf52a_15e9_a9b5_e89b)
        #expect(Shard(index: 1, count: 3).contains("data/a/c1.png"))
    }

    @Test func shardsParseAndFollowASLURMArray() throws {
        #expect(try Shard.parse("2/5") == Shard(index: 2, count: 5))
        for bad in ["5/5", "-1/2", "1", "a/b", "1/0", "0/2000000"] { #expect(throws: UsageError.self) { try Shard.parse(bad) } }
        #expect(try Shard.fromSLURM([:]) == nil)
        #expect(try Shard.fromSLURM(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 3, count: 4))
        #expect(try Shard.fromSLURM(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]) == Shard(index: 3, count: 4))
        #expect(throws: UsageError.self) { try Shard.fromSLURM(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"]) }
    }

    @Test func threadsFollowOpenBLASNumThreadsAndTheCgroupQuota() {
        #expect(Parallelism.allowed(online: 8, environment: [:], cpuMax: nil) == 8)
        #expect(Parallelism.allowed(online: 8, environment: ["OPENBLAS_NUM_THREADS": "2"], cpuMax: nil) == 2)
        #expect(Parallelism.allowed(online: 8, environment: ["OPENBLAS_NUM_THREADS": "0"], cpuMax: nil) == 8)
        #expect(Parallelism.allowed(online: 8, environment: [:], cpuMax: "150000 100000\n") == 2)   // 1.5 CPUs: 2 threads
        #expect(Parallelism.allowed(online: 8, environment: [:], cpuMax: "max 100000\n") == 8)
        #expect(Parallelism.allowed(online: 8, environment: ["OPENBLAS_NUM_THREADS": "6"], cpuMax: "300000 100000") == 3)
        #expect(Parallelism.allowed(online: 2, environment: ["CONVLENS_THREADS": "1", "OPENBLAS_NUM_THREADS": "2"], cpuMax: nil) == 1)
    }
}
