// swift-tools-version:6.0
// An example package that uses Upweight as a library (docs/LIBRARY.md). It depends on the
// repository's root package by path; another project would write
// `.package(url: "<repository URL>", from: "<version>")` instead.
import PackageDescription

let package = Package(
    name: "TrainAndEvaluate",
    dependencies: [
        .package(name: "Upweight", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "TrainAndEvaluate",
            dependencies: [.product(name: "Upweight", package: "Upweight")]
        ),
    ]
)
