import Foundation
import Testing

/// The Dask integration's scale test (integrations/test_convlens_dask.py) over 400 images on a 2-worker
/// LocalCluster: the merged index and embeddings equal a single-process run exactly, and a worker killed mid-run
/// then a rerun loses and duplicates nothing. It needs the venv Scripts/setup.sh makes (.build-py/venv), and fails
/// without it rather than skipping, so CI always runs it.
@Suite struct DaskIntegrationTests {
    static let python = CLI.root + "/.build-py/venv/bin/python"

    @Test(.enabled(if: CLI.hasWeights, "needs the installed SqueezeNet (run the setup)"))
    func shardsOnALocalDaskClusterEqualASingleRunAndSurviveAKilledWorker() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.python), "no \(Self.python): run bash Scripts/setup.sh")
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { return }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.python)
        p.arguments = [CLI.root + "/integrations/test_convlens_dask.py", CLI.binary]
        p.currentDirectoryURL = URL(fileURLWithPath: CLI.root)
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "integrations/test_convlens_dask.py:\n\(output.suffix(3000))")
        #expect(output.contains("ok: after the kill, rerun: merged embeddings"), "\(output.suffix(3000))")
    }
}
