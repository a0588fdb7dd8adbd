import XCTest

/// A smoke test in XCTest form, so both of the toolchain's test runners report real tests.
final class SmokeXCTests: XCTestCase {
    func testBinaryRunsAQuery() throws {
        let r = try Binary.run(["-c", "sum([1, 2, 3])"])
        XCTAssertEqual(r.stdout, "6\n")
        XCTAssertEqual(r.status, 0)
    }
}
