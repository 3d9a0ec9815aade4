// Runs the editor-test scenario inside VS Code (code-server) against the phxguard
// extension installed from its .vsix, through VS Code's own APIs and commands only:
// Problems diagnostics, the hover provider registry, the code-action controller, editor
// edits, the "phxguard: Restart Server" command and the phxguard settings.
// Does nothing unless SCENARIO_RESULT is set in code-server's environment.
'use strict';

const fs = require('fs');
const vscode = require('vscode');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TIMEOUT = Number(process.env.SCENARIO_TIMEOUT_MS || '20000');
const SETTLE = 400;

function shown(uri) {
  return vscode.languages.getDiagnostics(uri)
    .filter((d) => d.source === 'phxguard')
    .map((d) => ({
      line: d.range.start.line, col: d.range.start.character,
      code: typeof d.code === 'object' && d.code !== null ? d.code.value : d.code ?? null,
      message: d.message,
    }))
    .sort((a, b) => a.line - b.line || a.col - b.col);
}

async function waitFor(pred, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(25);
  }
  return pred();
}

// Diagnostics events per document, to wait until the server's answer to an edit settled.
const events = new Map();
function eventsOf(uri) { return events.get(uri.toString()) || { count: 0, at: 0 }; }
async function settled(uri, prev) {
  return waitFor(() => eventsOf(uri).count > prev && Date.now() - eventsOf(uri).at >= SETTLE);
}

async function fileScenario(root, rel, prefix, shot) {
  const R = { file: rel };
  const uri = vscode.Uri.file(`${root}/${rel}`);
  const doc = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(doc, { preview: false });
  R.language_id = doc.languageId;
  R.published = await waitFor(() => eventsOf(uri).count > 0 && Date.now() - eventsOf(uri).at >= SETTLE);
  R.diagnostics = shown(uri);
  R.all_sources = [...new Set(vscode.languages.getDiagnostics(uri).map((d) => d.source))];
  const target = R.diagnostics.find((d) => typeof d.code === 'string' && d.code.startsWith(prefix));
  if (!target) return R;
  R.target = target;
  const pos = new vscode.Position(target.line, target.col);
  editor.selection = new vscode.Selection(pos, pos);

  const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', uri, pos)) || [];
  R.hover = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
  if (shot) {
    // The picture for the README: the hint, its hover, the Problems panel.
    await vscode.commands.executeCommand('workbench.actions.view.problems');
    await vscode.window.showTextDocument(doc, { preview: false });
    editor.selection = new vscode.Selection(pos, pos);
    await vscode.commands.executeCommand('editor.action.showHover');
    await sleep(1500);
    fs.writeFileSync(`${process.env.SCENARIO_RESULT}.shoot`, '');
    await waitFor(() => fs.existsSync(`${process.env.SCENARIO_RESULT}.shot`), 15000);
    await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
  }

  const actions = (await vscode.commands.executeCommand(
    'vscode.executeCodeActionProvider', uri, new vscode.Range(pos, pos), vscode.CodeActionKind.QuickFix.value)) || [];
  R.actions = actions.map((a) => a.title);
  // What Ctrl+. and Enter do: the editor's code-action controller applies the first quick fix.
  const before = doc.getText();
  let prev = eventsOf(uri).count;
  await vscode.commands.executeCommand('editor.action.codeAction', { kind: 'quickfix', apply: 'first' });
  await waitFor(() => doc.getText() !== before, 5000);
  R.text_after_fix = doc.getText();
  await settled(uri, prev);
  R.diagnostics_after_fix = shown(uri);

  prev = eventsOf(uri).count;
  await editor.edit((eb) => eb.insert(new vscode.Position(0, 0), '# inserted by the test\n'));
  await settled(uri, prev);
  R.diagnostics_after_insert = shown(uri);
  const first = R.diagnostics_after_insert[0];
  if (first) {
    R.replaced_line = first.line;
    prev = eventsOf(uri).count;
    await editor.edit((eb) => eb.replace(doc.lineAt(first.line).range, '# replaced by the test'));
    await settled(uri, prev);
    R.diagnostics_after_replace = shown(uri);
  }

  // phxguard: Restart Server brings the same diagnostics back for the open document.
  const beforeRestart = JSON.stringify(shown(uri));
  prev = eventsOf(uri).count;
  await vscode.commands.executeCommand('phxguard.restartServer');
  // Stopping clears the document's diagnostics (one event); the new server publishes them again.
  R.restart_cleared_and_republished = await waitFor(
    () => eventsOf(uri).count >= prev + 2 && JSON.stringify(shown(uri)) === beforeRestart);
  R.text_final = doc.getText();
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  return R;
}

async function run(R) {
  const root = process.env.SCENARIO_WORKSPACE;
  const ext = vscode.extensions.getExtension('phxguard.phxguard');
  R.extension = ext ? { version: ext.packageJSON.version, active: ext.isActive } : null;
  R.vscode_version = vscode.version;
  R.commands = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('phxguard.'));
  R.files = [];
  for (const [i, spec] of JSON.parse(process.env.SCENARIO_FILES).entries()) {
    R.files.push(await fileScenario(root, spec.file, spec.prefix, i === 0));
  }
  // Server settings go through workspace/configuration, without the extension's own keys
  // (path, trace...), which the server would reject: `select` must take effect.
  const uri = vscode.Uri.file(`${root}/${JSON.parse(process.env.SCENARIO_FILES)[0].file}`);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  await waitFor(() => shown(uri).length > 0);
  await vscode.workspace.getConfiguration('phxguard').update('select', ['MG001'], vscode.ConfigurationTarget.Global);
  R.select_applied = await waitFor(() => JSON.stringify(shown(uri).map((d) => d.code)) === '["MG001"]');
  R.diagnostics_with_select = shown(uri);
  await vscode.workspace.getConfiguration('phxguard').update('select', undefined, vscode.ConfigurationTarget.Global);
  // A path that does not exist: the extension says so in a notification (the driver reads it).
  await vscode.workspace.getConfiguration('phxguard').update(
    'path', '/nonexistent/phxguard', vscode.ConfigurationTarget.Global);
  await sleep(1500);
}

async function activate() {
  const result = process.env.SCENARIO_RESULT;
  if (!result) return;
  const sub = vscode.languages.onDidChangeDiagnostics((e) => {
    for (const uri of e.uris) {
      const key = uri.toString();
      const prev = events.get(key) || { count: 0, at: 0 };
      events.set(key, { count: prev.count + 1, at: Date.now() });
    }
  });
  const R = { errors: [] };
  try {
    await run(R);
  } catch (e) {
    R.errors.push(String(e && e.stack ? e.stack : e));
  }
  sub.dispose();
  fs.writeFileSync(`${result}.tmp`, JSON.stringify(R));
  fs.renameSync(`${result}.tmp`, result);
}

function deactivate() {}

module.exports = { activate, deactivate };
