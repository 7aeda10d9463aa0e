import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentOptionsKey, explicitOptions, needsRestart, plainKeyScopes, serverLaunch, serverOptions } from '../settings';

test('serverOptions drops the extension\'s own settings, unset values and methods', () => {
  const section = {
    model: 'qwen',
    baseUrl: null,
    maxTurns: 5,
    server: { pythonCommand: '/venv/bin/python' },
    trace: { server: 'off' },
    get: () => undefined,
  };
  assert.deepEqual(serverOptions(section), { model: 'qwen', maxTurns: 5 });
  assert.deepEqual(serverOptions(undefined), {});
});

test('explicitOptions keeps only what the user set, folder over workspace over user', () => {
  const inspected: Record<string, object> = {
    model: { globalValue: 'a', workspaceValue: 'b' },
    maxTurns: {},
    temperature: { workspaceFolderValue: 0, globalValue: 0.5 },
    'server.pythonCommand': { globalValue: 'python3.12' },
  };
  const options = explicitOptions(Object.keys(inspected), (key) => inspected[key]);
  assert.deepEqual(options, { model: 'b', temperature: 0 });
});

test('serverLaunch: the command setting, then the Python setting, then the Python extension, then python3', () => {
  const base = { command: [], pythonCommand: '', logLevel: 'INFO' };
  assert.deepEqual(serverLaunch({ ...base, command: ['smallcode-lsp', '--log-file', 'x'] }, '/py'), {
    command: 'smallcode-lsp',
    args: ['--log-file', 'x', '--log-level', 'INFO'],
    source: 'smallcode.server.command',
  });
  assert.equal(serverLaunch({ ...base, pythonCommand: ' /venv/bin/python ' }, '/py').command, '/venv/bin/python');
  const fromExtension = serverLaunch(base, '/env/bin/python');
  assert.equal(fromExtension.command, '/env/bin/python');
  assert.deepEqual(fromExtension.args, ['-m', 'lsp_server', '--log-level', 'INFO']);
  assert.equal(serverLaunch({ ...base, logLevel: 'DEBUG' }, undefined).command, 'python3');
  assert.ok(serverLaunch({ ...base, logLevel: 'DEBUG' }, undefined).args.includes('DEBUG'));
});

test('only launch settings need a restart', () => {
  assert.equal(needsRestart((s) => s === 'smallcode.server'), true);
  assert.equal(needsRestart((s) => s === 'smallcode.model'), false);
});

test('agentOptionsKey changes with what the agent is built from, not with the server\'s own options', () => {
  const base = agentOptionsKey({ model: 'a', maxTurns: 5, applyMode: 'auto' });
  assert.equal(agentOptionsKey({ maxTurns: 5, model: 'a', applyMode: 'preview', completion: false }), base);
  assert.notEqual(agentOptionsKey({ model: 'a', maxTurns: 5, apiKey: 'k' }), base);
  assert.notEqual(agentOptionsKey({ model: 'b', maxTurns: 5 }), base);
});

test('plainKeyScopes lists the scopes holding a key, most specific first', () => {
  assert.deepEqual(plainKeyScopes({ globalValue: 'u', workspaceFolderValue: 'f' }), [
    { scope: 'folder', value: 'f' },
    { scope: 'user', value: 'u' },
  ]);
  assert.deepEqual(plainKeyScopes({ globalValue: ' ', workspaceValue: null }), []);
  assert.deepEqual(plainKeyScopes(undefined), []);
});
