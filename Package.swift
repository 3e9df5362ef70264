// swift-tools-version: 6.0
// ConvLens: a CNN interpretability toolkit. Targets depend one way, top to bottom:
//   C shims (CBLAS, CCairo, CPNG, CJPEG, CZlib), the CKernels GEMM, the CSHA256 hash; Support (atomic files) -> CSHA256
//   Engine -> CBLAS, CKernels; TensorIO -> Support, CZlib; Models -> Engine, TensorIO
//   Resampling (the one bilinear map resize, no dependencies)
//   Imaging -> Support, CPNG, CJPEG; Analysis -> Engine, Resampling; Render -> Support, CCairo, Imaging, Resampling
//   ConvLens (the jobs a user runs) -> all of the above
//   convlens (command line) -> ConvLens (and the value types of Engine, Render, Support) + ArgumentParser
import PackageDescription

let package = Package(
    name: "ConvLens",
    products: [
        .executable(name: "convlens", targets: ["convlens"]),
        .library(name: "ConvLens", targets: ["ConvLens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries: one shim each.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // libpng and libjpeg report errors by longjmp, which Swift cannot catch: a small C file does it.
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The engine's own GEMM kernel for convolutions (AVX2/FMA, chosen at run time): not a library wrapper.
        .target(name: "CKernels", path: "Sources/CKernels"),

        // SHA-256's compression function (SHA extensions, chosen at run time): not a library wrapper.
        .target(name: "CSHA256", path: "Sources/CSHA256"),
        .target(name: "Support", dependencies: ["CSHA256"]),
        .target(name: "Resampling"),
        .target(name: "Engine", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "TensorIO", dependencies: ["Support", "CZlib"]),
        .target(name: "Models", dependencies: ["Engine", "TensorIO"]),
        .target(name: "Imaging", dependencies: ["Support", "CPNG", "CJPEG"]),
        .target(name: "Analysis", dependencies: ["Engine", "Resampling"]),
        .target(name: "Render", dependencies: ["Support", "CCairo", "Imaging", "Resampling"]),
        .target(name: "ConvLens", dependencies: ["Support", "Engine", "TensorIO", "Models", "Imaging", "Analysis", "Render", "Resampling"]),
        .executableTarget(name: "convlens", dependencies: [
            "ConvLens", "Engine", "Render", "Support", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared by the test targets: fixture loading and labelled comparisons. Never linked into the tool.
        .target(name: "TestSupport", dependencies: ["Engine", "TensorIO"], path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "TensorIOTests", dependencies: ["TensorIO", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Engine", "TensorIO", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Engine", "Models", "Resampling", "TensorIO", "TestSupport"]),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Imaging"], exclude: ["Golden"]),
        .testTarget(name: "ConvLensTests", dependencies: ["ConvLens", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["convlens", "TestSupport"]),
        // The fuzz targets' functions (Fuzz/Targets), replaying the inputs that once crashed them. The libFuzzer
        // binaries themselves are built by Scripts/fuzz.sh.
        .testTarget(name: "FuzzTests", dependencies: ["TensorIO", "Imaging"], path: "Fuzz",
                    exclude: ["Corpus", "Dictionaries", "Entry", "Regressions"]),
    ],
    swiftLanguageModes: [.v6]
)
