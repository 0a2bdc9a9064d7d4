// swift-tools-version:6.1
import PackageDescription

// Linux (glibc) only: Sources/UpweightSupport/Platform.swift, the one place that names the platform,
// stops a build elsewhere with a message. No `platforms:` entry, as no other platform is supported.
let package = Package(
    name: "Upweight",
    products: [
        .library(name: "Upweight", targets: ["Upweight"]),
        .executable(name: "upweight", targets: ["upweight"]),
    ],
    // `--traits MPI` builds data-parallel training on Open MPI (docs/DISTRIBUTED.md); off by default,
    // so a plain `swift build` needs no MPI installed.
    traits: [
        .trait(name: "MPI", description: "Data-parallel training over Open MPI (CMPI, MPICollective)"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(name: "CSystem"),
        // Open MPI, only under the MPI trait; shim.h wraps its handle macros in inline functions.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]
        ),
        // The MLP's GEMM and sparse kernels: AVX-512 paths chosen at run time, no compiler flags.
        .target(name: "CKernels"),
        // The layers, lowest first; each depends only on layers below it (docs/ARCHITECTURE.md).
        .target(name: "UpweightSupport", dependencies: [.target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .target(name: "UpweightIO", dependencies: ["UpweightSupport", "CJansson", "CZlib", "CSystem"]),
        .target(name: "UpweightData", dependencies: ["UpweightSupport", "UpweightIO"]),
        .target(name: "UpweightModels", dependencies: ["UpweightSupport", "UpweightIO", "UpweightData", "CKernels"]),
        .target(name: "UpweightWeighting", dependencies: ["UpweightSupport", "UpweightIO", "UpweightData", "UpweightModels"]),
        .target(
            name: "UpweightEvaluation",
            dependencies: ["UpweightSupport", "UpweightIO", "UpweightData", "UpweightWeighting"]
        ),
        .target(
            name: "UpweightTraining",
            dependencies: [
                "UpweightSupport", "UpweightIO", "UpweightData", "UpweightModels", "UpweightWeighting",
                "UpweightEvaluation",
            ]
        ),
        .target(
            name: "UpweightTuning",
            dependencies: ["UpweightSupport", "UpweightIO", "UpweightData", "UpweightEvaluation", "UpweightTraining"]
        ),
        // The façade: orchestration (TrainingSession) and every layer's public API re-exported.
        .target(
            name: "Upweight",
            dependencies: [
                "UpweightSupport", "UpweightIO", "UpweightData", "UpweightModels", "UpweightWeighting",
                "UpweightEvaluation", "UpweightTraining", "UpweightTuning",
            ]
        ),
        .executableTarget(
            name: "upweight",
            dependencies: [
                "Upweight",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target over the reader and the config parser (scripts/fuzz); built plainly, it
        // reruns saved inputs through the same checks.
        .executableTarget(name: "UpweightFuzz", dependencies: ["Upweight"]),
        .testTarget(
            name: "UpweightTests",
            // The CLI tests run the built `upweight` binary, so the tests depend on it being built.
            dependencies: ["Upweight", "upweight"],
            exclude: ["Fixtures"]
        ),
    ]
)
