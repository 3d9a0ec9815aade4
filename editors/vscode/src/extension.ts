// phxguard for VS Code: starts `phxguard server` (LSP over stdio) for Elixir and HEEx files.
//
// The extension contributes no languages and no grammars: ElixirLS, Expert or another Elixir
// extension owns the `elixir` and `phoenix-heex` language ids. Files are also matched by
// suffix, so hints appear even when no Elixir extension is installed.
import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  ConfigurationParams,
  DocumentSelector,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

const SECTION = "phxguard";
const INSTALL_HINT =
  "Install it with `pipx install phxguard` or `python3 -m pip install phxguard` " +
  "(in the project's virtualenv works too), or set `phxguard.path`.";

// Settings only the extension reads; the server rejects keys it does not know.
const CLIENT_ONLY_KEYS = new Set(["enable", "path", "args", "trace"]);

const SELECTOR: DocumentSelector = [
  { scheme: "file", language: "elixir" },
  { scheme: "file", language: "phoenix-heex" },
  { scheme: "file", language: "heex" },
  { scheme: "file", pattern: "**/*.{ex,exs,heex}" },
];

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;
// Serialises start/stop so that quick setting changes cannot race two servers.
let pending: Promise<void> = Promise.resolve();

/** The command to run: an explicit path, `phxguard` on PATH, or the workspace's virtualenv. */
export function findServer(
  configured: string,
  envPath: string,
  folders: readonly string[],
  trusted: boolean,
): string | undefined {
  const exe = process.platform === "win32" ? "phxguard.exe" : "phxguard";
  const onPath = (name: string): string | undefined =>
    envPath
      .split(path.delimiter)
      .filter((dir) => dir !== "")
      .map((dir) => path.join(dir, name))
      .find(isExecutable);
  if (configured.trim() !== "") {
    const expanded = configured.trim().replace(/^~(?=$|[\\/])/, process.env.HOME ?? "~");
    // A bare name is looked up on PATH; a relative path is taken from the first folder.
    if (!expanded.includes("/") && !expanded.includes("\\")) {
      return onPath(expanded);
    }
    const absolute =
      path.isAbsolute(expanded) || folders.length === 0
        ? expanded
        : path.join(folders[0], expanded);
    return isExecutable(absolute) ? absolute : undefined;
  }
  const found = onPath(exe);
  if (found !== undefined) {
    return found;
  }
  // A virtualenv inside an untrusted workspace is code from that workspace: do not run it.
  if (!trusted) {
    return undefined;
  }
  const bin = process.platform === "win32" ? "Scripts" : "bin";
  for (const folder of folders) {
    for (const venv of [".venv", "venv", "env"]) {
      const candidate = path.join(folder, venv, bin, exe);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The `phxguard` section as the server expects it: no client-only keys, no unset values. */
export function serverSettings(section: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (section === null || typeof section !== "object") {
    return out;
  }
  for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
    if (!CLIENT_ONLY_KEYS.has(key) && value !== null && value !== undefined) {
      out[key] = value;
    }
  }
  return out;
}

function log(message: string): void {
  output?.appendLine(`[${new Date().toISOString()}] ${message}`);
}

async function notifyMissing(configured: string): Promise<void> {
  const what =
    configured.trim() !== ""
      ? `phxguard: \`phxguard.path\` (${configured}) is not an executable file.`
      : "phxguard: the `phxguard` language server was not found on PATH or in the workspace's virtualenv.";
  log(`${what} ${INSTALL_HINT}`);
  const choice = await vscode.window.showErrorMessage(
    `${what} ${INSTALL_HINT}`,
    "Open Settings",
    "Show Output",
  );
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "phxguard.path");
  } else if (choice === "Show Output") {
    output?.show(true);
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  if (!config.get<boolean>("enable", true)) {
    log("phxguard.enable is false: the server is not started.");
    return;
  }
  const configured = config.get<string>("path", "");
  const args = config.get<string[]>("args", []);
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const command = findServer(configured, process.env.PATH ?? "", folders, vscode.workspace.isTrusted);
  if (command === undefined) {
    void notifyMissing(configured);
    return;
  }
  const cwd = folders[0];
  log(`starting ${command} server ${args.join(" ")}`.trimEnd());
  const serverOptions: ServerOptions = {
    command,
    args: ["server", ...args],
    transport: TransportKind.stdio,
    options: cwd !== undefined ? { cwd } : {},
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: SELECTOR,
    outputChannel: output,
    traceOutputChannel: output,
    middleware: {
      workspace: {
        configuration: async (params: ConfigurationParams, token, next) => {
          const result: unknown = await next(params, token);
          if (!Array.isArray(result)) {
            return result as ResponseError;
          }
          return result.map((value: unknown, i): unknown =>
            params.items[i]?.section === SECTION ? serverSettings(value) : value,
          );
        },
      },
    },
  };
  const next = new LanguageClient(SECTION, "phxguard", serverOptions, clientOptions);
  try {
    await next.start();
    client = next;
    context.subscriptions.push(next);
    log("server started");
  } catch (error) {
    log(`the server failed to start: ${String(error)}`);
    void vscode.window.showErrorMessage(
      `phxguard: \`${command} server\` failed to start (${String(error)}). ${INSTALL_HINT}`,
      "Show Output",
    ).then((choice) => {
      if (choice === "Show Output") {
        output?.show(true);
      }
    });
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    try {
      await running.stop(3000);
    } catch (error) {
      log(`stopping the server: ${String(error)}`);
    }
  }
}

function restart(context: vscode.ExtensionContext): Promise<void> {
  pending = pending.then(async () => {
    await stop();
    await start(context);
  });
  return pending;
}

/** Starts the server and registers the restart command and settings watchers. */
export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("phxguard");
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand("phxguard.restartServer", () => restart(context)),
    vscode.commands.registerCommand("phxguard.showOutput", () => output?.show(true)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      // `trace.server` is applied by the client itself; the server's own settings go through
      // workspace/didChangeConfiguration. Only what changes the command needs a restart.
      if (["enable", "path", "args"].some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        void restart(context);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart(context)),
  );
  await restart(context);
}

/** Stops the server when VS Code shuts the extension down. */
export function deactivate(): Promise<void> {
  return stop();
}
