import Foundation

/// Monotonic time for --timing.
public enum Clock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    public static func format(_ seconds: Double) -> String {
        let ms = (seconds * 1e6).rounded() / 1e6
        return String(format: "%.6fs", ms)
    }
}
