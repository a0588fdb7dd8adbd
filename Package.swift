// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kam",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kam", targets: ["kam"]),
        .library(name: "KamCore", targets: ["KamCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The layers, lowest first; each may use only those below it (Sources/README.md).
        // None touches the terminal or exits the process.
        .target(name: "KamSyntax", path: "Sources/KamSyntax"),
        .target(name: "KamData", dependencies: ["KamSyntax", "CSQLite", "CBytes", "CPlatform"], path: "Sources/KamData"),
        .target(name: "KamEngine", dependencies: ["KamData"], path: "Sources/KamEngine"),
        .target(name: "KamRuntime", dependencies: ["KamEngine"], path: "Sources/KamRuntime"),
        .target(name: "KamAnalytics", dependencies: ["KamRuntime"], path: "Sources/KamAnalytics"),
        // The relational part of a script compiled to SQL for other engines.
        .target(name: "KamSQL", dependencies: ["KamRuntime", "CLibPQ"], path: "Sources/KamSQL"),
        // The session that puts them together, and what the executable and tests import.
        .target(name: "KamCore", dependencies: ["KamAnalytics", "KamSQL"], path: "Sources/KamCore"),
        // PostgreSQL is reached through the system's libpq.
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        // SQLite datasets are read through the system's libsqlite3.
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        // libedit, found with pkg-config; the shim wraps the variadic calls Swift cannot make.
        .systemLibrary(
            name: "CLibEdit", path: "Sources/CLibEdit", pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]),
        .target(name: "CEditLine", dependencies: ["CLibEdit"], path: "Sources/CEditLine"),
        // The byte loops of the CSV reader's pre-pass, in vector code (quotes, newlines, ASCII).
        .target(name: "CBytes", path: "Sources/CBytes", cSettings: [.unsafeFlags(["-O3"])]),
        // Process-level calls: malloc tuning at startup, writing a file past the page cache.
        .target(name: "CPlatform", path: "Sources/CPlatform"),
        .executableTarget(
            name: "kam",
            dependencies: [
                "KamCore", "CEditLine", "CPlatform",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/kam"),
        // The fuzz targets (libFuzzer with scripts/fuzz --libfuzzer; a replayer otherwise).
        .executableTarget(name: "kam-fuzz", dependencies: ["KamCore"], path: "Sources/KamFuzz"),
        // What the test targets share: the SQLite fixtures they build.
        .target(name: "KamTestSupport", dependencies: ["KamCore"], path: "Tests/KamTestSupport"),
        .testTarget(name: "KamCoreTests", dependencies: ["KamCore", "KamTestSupport"], path: "Tests/KamCoreTests"),
        .testTarget(
            name: "KamGoldenTests", dependencies: ["KamCore", "KamTestSupport"], path: "Tests/KamGoldenTests",
            exclude: ["Golden"]),
        .testTarget(name: "KamCLITests", dependencies: ["KamCore"], path: "Tests/KamCLITests"),
    ]
)
