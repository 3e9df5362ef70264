import Foundation
import Imaging

/// Headless Chromium (Debian's `chromium`, installed by the setup) as a test instrument: it screenshots a page or
/// prints its DOM after the load event. Each run gets its own profile folder, so runs can go side by side.
enum Chromium {
    static let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A running Chromium; `finish()` waits for it and returns what it printed.
    final class Run {
        private let process = Process()
        private let output = Pipe()
        private let profile = NSTemporaryDirectory() + "convlens-chromium-" + UUID().uuidString

        init(_ file: String, width: Int, height: Int, _ mode: [String]) throws {
            process.executableURL = URL(fileURLWithPath: Chromium.path!)
            process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                                 "--force-device-scale-factor=1", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)"]
                + mode + [URL(fileURLWithPath: file).absoluteString]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        func finish() -> String {
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: profile)
            return text
        }
    }

    /// The page's DOM after its load handlers ran.
    static func dom(_ file: String, width: Int = 1300, height: Int = 1000) throws -> String {
        try Run(file, width: width, height: height, ["--dump-dom"]).finish()
    }

    /// Starts a screenshot of the page's top `width` x `height` pixels into `png`.
    static func screenshot(_ file: String, to png: String, width: Int, height: Int) throws -> Run {
        try Run(file, width: width, height: height, ["--screenshot=\(png)"])
    }

    /// `html` with `script` run at the load event, written beside it as `name`.
    static func probe(_ html: String, script: String, as path: String) throws {
        let page = html.replacingOccurrences(of: "</body>", with: "<script>window.addEventListener(\"load\", () => {\(script)});</script></body>")
        try page.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The rectangle [x0, x1) x [y0, y1) of an image.
    static func crop(_ img: RGBImage, x0: Int, y0: Int, x1: Int, y1: Int) -> RGBImage {
        var px: [UInt8] = []  // (H, W, 3)
        for y in y0 ..< min(y1, img.height) { px += img.pixels[3 * (y * img.width + x0) ..< 3 * (y * img.width + min(x1, img.width))] }
        return RGBImage(width: min(x1, img.width) - x0, height: min(y1, img.height) - y0, pixels: px)
    }
}
