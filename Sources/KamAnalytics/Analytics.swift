import KamRuntime
import KamEngine
import KamData
import KamSyntax

/// The account analytics stages, registered into the runtime's one table of natives.
public enum Analytics {
    /// Every analytics built-in: scoring, segmentation, concentration, profitability, life
    /// cycle, cross-sell, stakeholders, health, NPS and the org chart.
    public static let builtins: [Builtin] = Scoring.list + Segmentation.list + Concentration.list + Profitability.list
        + Lifecycle.list + CrossSell.list + Stakeholders.list + Health.list + Nps.list + OrgChart.list + Charts.list

    /// Adds them to `Builtins` (once; later calls do nothing).
    public static func register() { _ = registered }

    private static let registered: Bool = {
        Builtins.register(builtins)
        return true
    }()
}
