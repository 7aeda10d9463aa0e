// The model server's API key, kept in VS Code's secret storage (never in settings.json, where it would be
// synced and could land in a repository): "SmallCode: Set API Key", and a key found in the old plain
// `smallcode.apiKey` setting moved there once and cleared from every scope.
import * as vscode from 'vscode';
import { plainKeyScopes } from './settings';

export const SECRET_ID = 'smallcode.apiKey';

export class ApiKey implements vscode.Disposable {
  /** The stored key (read at start and whenever the secret changes). */
  value: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** The stored key changed (this window or another). */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly warn: (message: string) => void,
  ) {
    this.disposables.push(
      secrets.onDidChange(async (event) => {
        if (event.key !== SECRET_ID) return;
        await this.load();
        this.changed.fire();
      }),
    );
  }

  async load(): Promise<void> {
    try {
      this.value = (await this.secrets.get(SECRET_ID)) || undefined;
    } catch (error) {
      this.warn(`SmallCode: could not read the API key from VS Code's secret storage: ${error}`);
    }
  }

  /** Store `key` (empty: remove it). */
  async set(key: string): Promise<void> {
    const trimmed = key.trim();
    if (trimmed) await this.secrets.store(SECRET_ID, trimmed);
    else await this.secrets.delete(SECRET_ID);
    this.value = trimmed || undefined;
  }

  /**
   * A key in the plain `smallcode.apiKey` setting (user, workspace or folder settings) moves to secret storage
   * and is cleared there. Returns whether one moved. When the secret cannot be stored the setting is left alone
   * (and still used), with a warning.
   */
  async migrate(): Promise<boolean> {
    const window = plainKeyScopes(vscode.workspace.getConfiguration('smallcode').inspect<string>('apiKey'));
    const folders = (vscode.workspace.workspaceFolders ?? []).map((folder) => ({
      folder,
      found: plainKeyScopes(vscode.workspace.getConfiguration('smallcode', folder.uri).inspect<string>('apiKey')).filter(
        (s) => s.scope === 'folder',
      ),
    }));
    const key = [...folders.flatMap((f) => f.found), ...window.filter((s) => s.scope !== 'folder')][0]?.value;
    if (key === undefined) return false;
    try {
      await this.set(key);
    } catch (error) {
      this.warn(`SmallCode: the API key stays in your settings: VS Code's secret storage refused it (${error})`);
      return false;
    }
    const clear = async (config: vscode.WorkspaceConfiguration, target: vscode.ConfigurationTarget) => {
      try {
        await config.update('apiKey', undefined, target);
      } catch (error) {
        this.warn(`SmallCode: the API key is in secret storage now, but the old setting could not be cleared: ${error}`);
      }
    };
    for (const { scope } of window.filter((s) => s.scope !== 'folder')) {
      const target = scope === 'user' ? vscode.ConfigurationTarget.Global : vscode.ConfigurationTarget.Workspace;
      await clear(vscode.workspace.getConfiguration('smallcode'), target);
    }
    for (const { folder, found } of folders) {
      const config = vscode.workspace.getConfiguration('smallcode', folder.uri);
      // a single-folder window keeps folder settings in the workspace ones (cleared above)
      if (found.length && config.inspect<string>('apiKey')?.workspaceFolderValue !== undefined) {
        await clear(config, vscode.ConfigurationTarget.WorkspaceFolder);
      }
    }
    void vscode.window.showInformationMessage(
      'SmallCode: the API key moved from your settings to VS Code\'s secret storage ("SmallCode: Set API Key" changes it).',
    );
    return true;
  }

  /** "SmallCode: Set API Key": a password box (or the key given, for scripts); empty removes the key. */
  async prompt(given?: string): Promise<boolean> {
    const key =
      given ??
      (await vscode.window.showInputBox({
        title: 'SmallCode: API Key',
        prompt: "Bearer token for the model server (smallcode.baseUrl), kept in VS Code's secret storage. Empty: remove it.",
        password: true,
        ignoreFocusOut: true,
      }));
    if (key === undefined) return false;
    await this.set(key);
    void vscode.window.showInformationMessage(key.trim() ? 'SmallCode: API key stored' : 'SmallCode: API key removed');
    return true;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
