// KamCore is what the command line, the REPL and the tests use: the layers below, and
// the Session that puts them together.
@_exported import KamAnalytics
@_exported import KamData
@_exported import KamEngine
@_exported import KamRuntime
@_exported import KamSQL
@_exported import KamSyntax
