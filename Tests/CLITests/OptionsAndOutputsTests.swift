// Numeric options, the memory budget, outputs and exit codes, as a user meets them: every bad value exits 2 with one
// line in one format; a plan past the memory budget is refused with its size and a hint; outputs are only regular
// files or new paths, never two options on one file; the same kind of mistake exits the same way everywhere, with a
// did-you-mean; and error lines never carry raw control characters.
import Foundation
import Testing

@Suite(.serialized, .enabled(if: CLI.hasWeights, "run `bash Scripts/setup.sh` first: these cases run SqueezeNet"))
struct OptionsAndOutputsTests {
    static let chelsea = CLI.path("Samples/chelsea.png")

    struct Case: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        let message: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// One per numeric option and command; on today's main `--scale=-1` crashed (SIGILL in FigureWriter), `--filters
    /// 0..999999999` allocated 8 GB, `--size 60000` asked for terabytes, and the rest had other messages or none.
    static let outOfRange: [Case] = [
        Case(arguments: ["activations", "--model", "squeezenet1_1", chelsea, "--layer", "fire2", "--scale=-1"], message: "--scale must be in (0, 16], got -1"),
        Case(arguments: ["activations", "--model", "squeezenet1_1", chelsea, "--layer", "fire2", "--per-row", "0"], message: "--per-row must be in [1, 1024], got 0"),
        Case(arguments: ["gradcam", "--model", "squeezenet1_1", chelsea, "--scale", "17"], message: "--scale must be in (0, 16], got 17"),
        Case(arguments: ["gradcam", "--model", "squeezenet1_1", chelsea, "--scale", "nan"], message: "--scale must be in (0, 16], got nan"),
        Case(arguments: ["gradcam", "--model", "squeezenet1_1", chelsea, "--alpha", "1.5"], message: "--alpha must be in [0, 1], got 1.5"),
        Case(arguments: ["gradcam", "--model", "squeezenet1_1", chelsea, "--top", "0"], message: "--top must be in [1, 1000], got 0"),
        Case(arguments: ["classify", "--model", "squeezenet1_1", chelsea, "--top", "0"], message: "--top must be in [1, 1000], got 0"),
        Case(arguments: ["classify", "--model", "squeezenet1_1", chelsea, "--max-pixels", "0"], message: "--max-pixels must be in [1, 4294967296], got 0"),
        Case(arguments: ["patterns", "--model", "squeezenet1_1", "--layer", "conv1", "--size", "8"], message: "--size must be in [16, 65536], got 8"),
        Case(arguments: ["patterns", "--model", "squeezenet1_1", "--layer", "conv1", "--steps", "0"], message: "--steps must be in [1, 100000], got 0"),
        Case(arguments: ["patterns", "--model", "squeezenet1_1", "--layer", "conv1", "--per-row", "0"], message: "--per-row must be in [1, 1024], got 0"),
        Case(arguments: ["patterns", "--model", "squeezenet1_1", "--layer", "conv1", "--filters", "0..999999999"], message: "--filters must be in [0, 65535], got 999999999"),
        Case(arguments: ["correlate", "--model", "squeezenet1_1", chelsea, chelsea, "--scale", "0"], message: "--scale must be in (0, 16], got 0"),
        Case(arguments: ["bench", "--runs", "0"], message: "--runs must be in [1, 1000], got 0"),
        Case(arguments: ["bench", "--profile", "--batch", "100000"], message: "--batch must be in [1, 1024], got 100000"),
    ]

    @Test(arguments: outOfRange)
    func numericOptionOutOfRange(_ c: Case) throws {
        let s = try Scratch()
        let out = c.arguments[0] == "bench" ? [] : ["--out", s.out + "/x.png"]
        expectRefusal(try convlens(c.arguments + out, timeout: 60), code: 2, "error: " + c.message, scratch: s)
    }

    /// The budget is computed from the graph's shapes before anything large exists; the hint names a size that fits.
    @Test func planPastTheMemoryBudgetIsRefusedWithTheFigureAndAHint() throws {
        let s = try Scratch()
        let big = try convlens(["patterns", "--model", "squeezenet1_1", "--layer", "conv1", "--size", "60000", "--out", s.out + "/p.png"], timeout: 60)
        expectRefusal(big, code: 2, "error: patterns --size 60000 of 64 filters would need ~", ", past the limit of ",
                      "; try --size ", " or fewer --filters", scratch: s)
        #expect(big.peakBytes < 500 << 20, "the refusal itself took \(big.peakBytes >> 20) MB")
        // The limit can be set: gradcam's plan for one image is well above 1 MB.
        let small = try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--out", s.out + "/g.png"], through: ["/usr/bin/env", "CONVLENS_MEMORY_LIMIT=1M"])
        expectRefusal(small, code: 2, "error: gradcam --method gradcam of 1 image would need ~", "past the limit of 1 MB",
                      "try fewer images at a time or --view input", scratch: s)
    }

    /// A FIFO at the output path: today's main replaced it with a regular file (as root, `--out /dev/null` would have
    /// replaced the device).
    @Test func anOutputThatIsAFIFOIsRefusedAndLeftAlone() throws {
        let s = try Scratch()
        let fifo = s.out + "/map.png"
        #expect(mkfifo(fifo, 0o644) == 0)
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--out", fifo]), code: 1, fifo + ": is a FIFO, not a regular file")
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        #expect(s.outputs == ["map.png"], "left \(s.outputs)")
    }

    /// A character device (a copy of /dev/zero's numbers), as the acceptance script makes it; needs root for mknod.
    @Test(.enabled(if: getuid() == 0, "mknod needs root"))
    func anOutputThatIsADeviceIsRefusedAndLeftAlone() throws {
        let s = try Scratch()
        let dev = s.out + "/zero"
        #expect(mknod(dev, S_IFCHR | 0o644, dev_t(1 << 8 | 5)) == 0)        // makedev(1, 5): /dev/zero
        expectRefusal(try convlens(["weights", "import", CLI.weights + "/squeezenet1_1.safetensors", "--arch", "squeezenet1_1", "--out", dev]),
                      code: 1, dev + ": is a character device, not a regular file")
        var st = stat()
        #expect(lstat(dev, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device was replaced")
    }

    /// 250 characters is a valid name (the limit is 255); today's main failed on its temporary's longer name.
    @Test func aLongValidOutputNameIsWritten() throws {
        let s = try Scratch()
        let name = String(repeating: "x", count: 246) + ".png"
        let outcome = try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--no-metrics", "--out", s.out + "/" + name])
        #expect(outcome.code == 0, "\(outcome.stderr)")
        #expect(s.outputs == [name])
    }

    /// Two outputs of one command on one file: today's main wrote the figure, then the .npy over it.
    @Test func twoOutputsOnOneFileAreRefusedUpFront() throws {
        let s = try Scratch()
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--out", s.out + "/m.png", "--raw", s.out + "/./m.png"]), code: 2,
                      "error: --out and --raw name the same file", scratch: s)
        s.write("out/old.png", [1, 2, 3])
        #expect(link(s.out + "/old.png", s.out + "/hard.npy") == 0)
        expectRefusal(try convlens(["correlate", "--model", "squeezenet1_1", Self.chelsea, Self.chelsea, "--out", s.out + "/old.png", "--save-embeddings", s.out + "/hard.npy"]),
                      code: 2, "error: --out and --save-embeddings name the same file")
        #expect(s.outputs == ["hard.npy", "old.png"])
    }

    /// The same kind of mistake exits the same way: a bad name or value is bad usage (2) whatever it names. On today's
    /// main an unknown colormap, an unknown extension and `--layer logits` exited 1 while an unknown method exited 2.
    @Test func badNamesAndValuesAllExit2WithASuggestion() throws {
        let s = try Scratch()
        let out = ["--out", s.out + "/m.png"]
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--colormap", "jett"] + out), code: 2,
                      "error: The value 'jett' is invalid for '--colormap <name>': unknown colormap 'jett'; did you mean 'jet'? colormaps are: viridis", scratch: s)
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--method", "gradcamm++"] + out), code: 2,
                      "error: The value 'gradcamm++' is invalid for '--method <name>': unknown CAM method 'gradcamm++'; did you mean 'gradcam++'", scratch: s)
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--layer", "logits"] + out), code: 2,
                      "error: layer 'logits' has shape 1000; gradcam needs a layer with spatial extent", scratch: s)
        expectRefusal(try convlens(["gradcam", "--model", "squeezenet1_1", Self.chelsea, "--out", s.out + "/m.xyz"]), code: 2,
                      "error: cannot tell the figure format of '\(s.out)/m.xyz'", scratch: s)
        expectRefusal(try convlens(["gradcamm", Self.chelsea]), code: 2,
                      "error: unknown command 'gradcamm'; did you mean 'gradcam'? commands are: classify, gradcam")
        expectRefusal(try convlens(["classify", Self.chelsea, "--model", "squeezenet11"]), code: 2,
                      "error: unknown model 'squeezenet11'; did you mean 'squeezenet1_1'")
        expectRefusal(try convlens(["weights", "import", CLI.weights + "/squeezenet1_1.safetensors", "--arch", "resnet81", "--out", s.out + "/w.st"]),
                      code: 2, "error: unknown model 'resnet81'", scratch: s)
    }

    /// A file name with an escape sequence and a newline: one line on stderr, the characters written as escapes.
    @Test func controlCharactersInErrorsAreEscaped() throws {
        let s = try Scratch()
        let name = s.dir + "/no\u{1B}[31mcat\nline.png"
        let outcome = try convlens(["gradcam", "--model", "squeezenet1_1", name, "--out", s.out + "/m.png"])
        expectRefusal(outcome, code: 1, "no\\u{1B}[31mcat\\nline.png", scratch: s)
        #expect(!outcome.stderr.contains("\u{1B}"))
    }

    /// Ctrl-C while a figure is being written: the process is stopped the moment its temporary file appears (inotify),
    /// sent SIGINT and continued. It must die of SIGINT and leave nothing; today's main left `.m.png.tmp-PID-…`. When
    /// the write wins the race (the file was renamed before the stop landed), the run must simply have succeeded, and
    /// the case is tried again, up to five times.
    @Test func interruptedWriteLeavesNoTemporary() throws {
        let s = try Scratch()
        var caught = false
        for attempt in 1 ... 5 where !caught {
            let watch = inotify_init1(Int32(IN_CLOEXEC))
            defer { close(watch) }
            #expect(inotify_add_watch(watch, s.out, UInt32(IN_CREATE)) >= 0)
            // A large bare overlay (rocket.jpg at 16 pixels per photo pixel, tens of MB), so the write takes a while.
            let pid = try launch([CLI.binary, "gradcam", CLI.path("Samples/rocket.jpg"), "--no-metrics", "--scale", "16", "--out", s.out + "/m.png"])
            var status: Int32 = 0, stopped = false
            var pfd = pollfd(fd: watch, events: Int16(POLLIN), revents: 0)
            let deadline = Date().addingTimeInterval(120)
            while !stopped && waitpid(pid, &status, WNOHANG) == 0 {
                if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); Issue.record("hung"); return }
                guard poll(&pfd, 1, 50) > 0 else { continue }
                kill(pid, SIGSTOP)
                stopped = true
                let temporaries = s.outputs.filter { $0 != "m.png" }
                if !temporaries.isEmpty {
                    caught = true
                    print("attempt \(attempt): interrupting while \(temporaries) exists")
                    kill(pid, SIGINT)
                }
                kill(pid, SIGCONT)
                waitpid(pid, &status, 0)
            }
            if caught {
                #expect(status & 0x7f == SIGINT, "expected death by SIGINT, got status \(status)")
                #expect(s.outputs.isEmpty, "left \(s.outputs)")
            } else {
                #expect(status == 0 && s.outputs == ["m.png"], "attempt \(attempt): status \(status), outputs \(s.outputs)")
                try? FileManager.default.removeItem(atPath: s.out + "/m.png")
            }
        }
        #expect(caught, "the write always finished before it could be interrupted")
    }

    /// Starts a program with no terminal and the installed weights, without waiting, with SIGINT unblocked and at its
    /// default (a test runner's thread may block or ignore it, and a child inherits both).
    func launch(_ argv: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), interrupt = sigset_t()
        sigemptyset(&none)
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &interrupt)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        for fd in Int32(0) ... 2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var env = ProcessInfo.processInfo.environment
        env["CONVLENS_WEIGHTS"] = CLI.weights
        let cArgs = argv.map { strdup($0) } + [nil], cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        guard r == 0 else { throw POSIXError(POSIXErrorCode(rawValue: r) ?? .EINVAL) }
        return pid
    }

    /// The overlay covers the whole photo at its own size (rocket.jpg is 640x427); `--view input` is the model's
    /// 227x227 crop. Today's main wrote 227x227 for both.
    @Test func overlaysAreDrawnOverTheWholePhotoByDefault() throws {
        let s = try Scratch()
        for (view, size) in [("photo", [640, 427]), ("input", [227, 227])] {
            let out = s.out + "/\(view).png"
            let outcome = try convlens(["gradcam", "--model", "squeezenet1_1", CLI.path("Samples/rocket.jpg"), "--no-metrics", "--view", view, "--out", out])
            #expect(outcome.code == 0, "\(outcome.stderr)")
            #expect(pngSize(out) == size, "\(view)")
        }
    }

    /// Width and height from a PNG's IHDR.
    func pngSize(_ path: String) -> [Int] {
        let b = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        guard b.count >= 24 else { return [] }
        return [16, 20].map { o in b[o ..< o + 4].reduce(0) { $0 << 8 | Int($1) } }
    }
}
