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
        let m = dir + "/m.jsonl"
        try "{\"path\": \"a.png\", \"target\": 281}\n{\"path\": \"/b.png\"}\n{\"path\": \"c.png\", \"target\": null}\n"
            .write(toFile: m, atomically: true, encoding: .utf8)
        #expect(try Manifest.load(m) == [ManifestItem(path: dir + "/a.png", target: ItemTarget("class:281", origin: "\(m): line 1", base: dir)),
                                         ManifestItem(path: "/b.png"), ManifestItem(path: dir + "/c.png")])
        // A line that is not an item fails the manifest, naming the line.
        for (line, problem) in [("{\"target\": 3}", "\"path\""), ("not json", "\"path\""), ("{\"path\": \"\"}", "empty")] {
            try "{\"path\": \"ok.png\"}\n\(line)\n".write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
            do {
                _ = try Manifest.load(dir + "/bad.jsonl")
                Issue.record("\(line) was accepted")
            } catch {
                #expect("\(error)".contains("line 2") && "\(error)".contains(problem), "\(line): \(error)")
            }
        }
    }

    @Test func aJSONLinesTargetTakesWhatTargetTakesAndABadOneFailsOnlyItsItemNamingTheLine() throws {
        let dir = try Self.tempDir("jsonl-targets")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let m = dir + "/m.jsonl"
        let targets = ["\"prob:281\"", "\"sigmoid:3\"", "\"classes:1,2\"", "\"output:4\"", "\"mask:15@masks/m.png\"", "\"mask:2@/abs/m.png\"", "7",
                       "2.5", "-1", "\"cat\"", "\"class:x\"", "true", "\"\""]
        try targets.map { "{\"path\": \"a.png\", \"target\": \($0)}\n" }.joined().write(toFile: m, atomically: true, encoding: .utf8)
        let items = try Manifest.load(m)
        #expect(items.count == targets.count && items.allSatisfy { $0.path == dir + "/a.png" })
        let parsed = items.map { try? $0.target?.parsed.get() }
        // The same values `CAMTargetSpec(parsing:)` gives `--target`; a mask's file is taken from the manifest's folder.
        #expect(Array(parsed[0 ..< 7]) == [.value(.probability(281)), .value(.sigmoid(3)), .value(.logits([1, 2])), .value(.output(4)),
                                    .mask(class: 15, file: dir + "/masks/m.png"), .mask(class: 2, file: "/abs/m.png"), .value(.logit(7))])
        #expect(items.map { $0.target?.text } == ["prob:281", "sigmoid:3", "classes:1,2", "output:4", "mask:15@masks/m.png", "mask:2@/abs/m.png",
                                                  "class:7", "class:2.5", "class:-1", "cat", "class:x",
                                                  "a JSON value that is neither a string nor a number", ""])
        for (k, problem) in [(7, "'2.5' is not an index"), (8, "'-1' is not an index"), (9, "target 'cat' has no kind"),
                             (10, "'x' is not an index"), (11, "has no kind"), (12, "target '' has no kind")] {
            do {
                _ = try items[k].target?.resolve()
                Issue.record("line \(k + 1) resolved")
            } catch {
                #expect("\(error)".hasPrefix("\(m): line \(k + 1): ") && "\(error)".contains(problem), "\(error)")
            }
        }
        // A target that parses but cannot be read or does not fit fails when resolved, naming the line and the target.
        do { _ = try items[4].target?.resolve(); Issue.record("a missing mask file resolved") } catch {
            #expect("\(error)".hasPrefix("\(m): line 5: target 'mask:15@masks/m.png': \(dir)/masks/m.png"), "\(error)")
        }
        do { _ = try items[0].target?.resolve { try $0.check(output: [10]) }; Issue.record("class 281 of 10 resolved") } catch {
            #expect("\(error)" == "\(m): line 1: target 'prob:281': class index 281 is out of range: the model has 10 classes (0…9)")
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
