// Starts `kam lsp` for .kam files; VS Code's language client speaks the protocol.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("kam").get("path") || "kam";
  client = new LanguageClient(
    "kam",
    "kam",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "kam" }, { scheme: "untitled", language: "kam" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
