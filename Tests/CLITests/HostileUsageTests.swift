// The catalogue of bad usage and bad output paths, one case per test (parameterized families count one per
// argument). A bad argument exits 2 with one line; a file that cannot be used (labels, the output location) exits 1;
// neither leaves an output file. An output that exists is replaced atomically.
import Foundation
import Testing

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct HostileUsageTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    static func gradcam(_ s: Scratch, out: String? = nil, _ extra: [String] = [], through prefix: [String] = []) throws -> Outcome {
        try convlens(["gradcam", "--model", "squeezenet1_1", chelsea, "--out", out ?? s.out + "/map.png"] + extra, through: prefix)
    }

    @Test func unknownLayerListsTheValidOnesAndSuggests() throws {
        let s = try Scratch()
        expectRefusal(try Self.gradcam(s, ["--layer", "fire10", "--raw", s.out + "/map.npy"]), code: 2,
                      "error: unknown layer 'fire10'; did you mean 'fire", "Layers are: conv1, relu_conv1, pool1, fire2", scratch: s)
        expectRefusal(try Self.gradcam(s, ["--layer", "fire9.expand3x4"]), code: 2,
                      "unknown layer 'fire9.expand3x4'; did you mean 'fire9.expand3x3'", scratch: s)
    }

    @Test(arguments: [1000, -1, 5000])
    func classIndexOutOfRange(_ index: Int) throws {
        let s = try Scratch()
        // "--class=-1": with a space ArgumentParser reads -1 as an option and says the value is missing.
        expectRefusal(try Self.gradcam(s, ["--class=\(index)"]), code: 2,
                      "error: class index \(index) is out of range: the model has 1000 classes (0…999)", scratch: s)
    }

    @Test(arguments: [0, 2, 999, 1001])
    func labelsFileWithTheWrongNumberOfLines(_ count: Int) throws {
        let s = try Scratch()
        let labels = s.write("labels.txt", Array((0 ..< count).map { "class \($0)\n" }.joined().utf8))
        let outcome = try convlens(["classify", "--model", "squeezenet1_1", Self.chelsea, "--labels", labels])
        expectRefusal(outcome, code: 1, labels + ": labels file has \(count) lines, but the model has 1000 classes", scratch: s)
    }

    /// Works as root too: nobody can create a file under a regular file (ENOTDIR).
    @Test func outputDirectoryIsARegularFile() throws {
        let s = try Scratch()
        let file = s.write("notes.txt", Array("not a directory\n".utf8))
        expectRefusal(try Self.gradcam(s, out: file + "/map.png"), code: 1,
                      file + "/map.png: cannot write there: '\(file)' is a file, not a directory", scratch: s)
    }

    /// Works as root too: /sys is a real directory that refuses new files even to root (EACCES from sysfs).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel")))
    func outputDirectoryRefusesEvenRoot() throws {
        let s = try Scratch()
        let out = "/sys/convlens-map-\(getpid()).png"
        // EACCES where /sys is mounted read-write, EROFS where a container mounts it read-only: refused either way.
        expectRefusal(try Self.gradcam(s, out: out), code: 1, out + ": cannot write to '/sys': ", scratch: s)
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A directory with mode 555. Root ignores modes, so as root convlens runs as `nobody` (setpriv), which does not.
    @Test func outputDirectoryWithoutWritePermission() throws {
        let s = try Scratch()
        var prefix: [String] = []
        if getuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
                print("running as root without setpriv: cannot drop privileges, skipping the mode-555 case")
                return
            }
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            let reach = try spawn(prefix + ["/bin/sh", "-c", #"test -x "$0" && test -r "$1" && test -r "$2""#, CLI.binary,
                                            CLI.weights + "/squeezenet1_1.safetensors", Self.chelsea])
            guard reach.code == 0 else {
                print("nobody cannot reach convlens, its weights or the sample here (a checkout under /root?): skipping the mode-555 case")
                return
            }
        }
        chmod(s.out, 0o555)
        expectRefusal(try Self.gradcam(s, through: prefix), code: 1,
                      s.out + "/map.png: cannot write to '\(s.out)': Permission denied", scratch: s)
    }

    @Test func outputPathIsADirectory() throws {
        let s = try Scratch()
        try FileManager.default.createDirectory(atPath: s.out + "/map.png", withIntermediateDirectories: false)
        let outcome = try Self.gradcam(s)
        expectRefusal(outcome, code: 1, s.out + "/map.png: is a directory; give a file name")
        #expect(s.outputs == ["map.png"])
    }

    /// An unwritable --raw stops the run before the figure is written, not after.
    @Test func unwritableRawLeavesNoFigure() throws {
        let s = try Scratch()
        let file = s.write("notes.txt", [0x61])
        expectRefusal(try Self.gradcam(s, ["--raw", file + "/map.npy"]), code: 1, file + "/map.npy: cannot write there", scratch: s)
    }

    /// An existing output is replaced by rename, not rewritten in place: a hard link to the old file keeps the old
    /// bytes, the new name holds a PNG, and no temporary file is left. A failed run leaves the old file alone.
    @Test func existingOutputIsReplacedAtomically() throws {
        let s = try Scratch()
        let out = s.out + "/map.png", old = Array("an older figure\n".utf8)
        s.write("out/map.png", old)
        #expect(link(out, s.dir + "/old-link.png") == 0)
        expectRefusal(try Self.gradcam(s, ["--class", "1000"]), code: 2, "class index 1000 is out of range")
        #expect(FileManager.default.contents(atPath: out) == Data(old), "a failed run touched the existing output")
        let outcome = try Self.gradcam(s)
        #expect(outcome.code == 0, "\(outcome.stderr)")
        let new = [UInt8](FileManager.default.contents(atPath: out) ?? Data())
        #expect(new.starts(with: [0x89, 0x50, 0x4E, 0x47]), "the output is not a PNG")
        #expect(FileManager.default.contents(atPath: s.dir + "/old-link.png") == Data(old), "the old file was rewritten in place")
        #expect(s.outputs == ["map.png"], "left \(s.outputs)")
    }
}
