// The extension's settings: which keys go to the server, and how to start it. No `vscode` import (unit-tested).

/** Settings of the extension itself (how to start the server, protocol tracing): never sent to the server. */
export const CLIENT_SECTIONS = ['server', 'trace'] as const;

/**
 * The server's options from the `smallcode` configuration section: the extension's own keys and unset (null)
 * values dropped, so the server sees exactly the options it knows and keeps its defaults for the rest.
 */
export function serverOptions(section: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section ?? {})) {
    if ((CLIENT_SECTIONS as readonly string[]).includes(key.split('.')[0]) || value === null || value === undefined) {
      continue;
    }
    if (typeof value === 'function') {
      continue; // WorkspaceConfiguration's own methods (get, has, inspect, update)
    }
    out[key] = value;
  }
  return out;
}

export interface LaunchSettings {
  /** `smallcode.server.command`: a whole command line that replaces the Python launch. */
  command: string[];
  /** `smallcode.server.pythonCommand`. */
  pythonCommand: string;
  /** `smallcode.server.logLevel`. */
  logLevel: string;
}

export interface Launch {
  command: string;
  args: string[];
  /** Where the Python came from, for the log. */
  source: string;
}

/**
 * The server's command line: `smallcode.server.command` as given, else `<python> -m lsp_server` with the
 * configured Python, else the Python extension's active environment, else `python3`.
 */
export function serverLaunch(settings: LaunchSettings, activePython: string | undefined): Launch {
  const logArgs = ['--log-level', settings.logLevel || 'INFO'];
  const command = (settings.command ?? []).filter((part) => part.trim() !== '');
  if (command.length > 0) {
    return { command: command[0], args: [...command.slice(1), ...logArgs], source: 'smallcode.server.command' };
  }
  const configured = (settings.pythonCommand ?? '').trim();
  if (configured) {
    return { command: configured, args: ['-m', 'lsp_server', ...logArgs], source: 'smallcode.server.pythonCommand' };
  }
  if (activePython) {
    return { command: activePython, args: ['-m', 'lsp_server', ...logArgs], source: 'the Python extension' };
  }
  return { command: 'python3', args: ['-m', 'lsp_server', ...logArgs], source: 'the default (python3)' };
}

/** True when a change of these settings needs a new server process (the others apply live). */
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed('smallcode.server');
}

export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * Only the options the user set (user, workspace or folder settings): an untouched setting is left out, so
 * the project's smallcode.toml and SMALLCODE_* variables still apply (the server gives explicit options
 * precedence over both).
 */
export function explicitOptions(
  keys: string[],
  inspect: (key: string) => Inspected | undefined,
): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  for (const key of keys) {
    const found = inspect(key);
    const value = found?.workspaceFolderValue ?? found?.workspaceValue ?? found?.globalValue;
    if (value !== undefined) set[key] = value;
  }
  return serverOptions(set);
}

/** The server's own options: changing them leaves its agent as it is (lsp_server.settings.LspOptions). */
export const SERVER_OWN_OPTIONS = ['applyMode', 'saveAfterEdit', 'completion', 'completionDebounceMs', 'completionMaxTokens'];

/**
 * What the server builds its agent from: when this changes, the server rebuilds the agent with the configured
 * model, so a model switched with "SmallCode: Model" is forgotten (the status item must follow).
 */
export function agentOptionsKey(options: Record<string, unknown>): string {
  const entries = Object.entries(options)
    .filter(([key]) => !SERVER_OWN_OPTIONS.includes(key))
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

/** Where a plain `smallcode.apiKey` setting is set (to move it to secret storage), most specific first. */
export function plainKeyScopes(found: Inspected | undefined): { scope: 'folder' | 'workspace' | 'user'; value: string }[] {
  const scopes: { scope: 'folder' | 'workspace' | 'user'; value: unknown }[] = [
    { scope: 'folder', value: found?.workspaceFolderValue },
    { scope: 'workspace', value: found?.workspaceValue },
    { scope: 'user', value: found?.globalValue },
  ];
  return scopes.filter((s): s is { scope: 'folder' | 'workspace' | 'user'; value: string } => typeof s.value === 'string' && s.value.trim() !== '');
}
