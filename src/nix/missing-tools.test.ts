import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProviderFallback, ReportEntry } from './environment-provider.js';
import { configuredFallback } from './host-provider.js';
import { missingToolHint } from './missing-tools.js';

const go: Pick<ReportEntry, 'name' | 'wanted' | 'provided' | 'status'> = {
  name: 'go',
  wanted: '1.23',
  provided: null,
  status: 'missing',
};
const nixpkgs: ProviderFallback = {
  cause: 'nixpkgs',
  detail: 'unable to download https://github.com/…: Could not resolve host: github.com',
  message: 'Nix was not used: …',
};

describe('what a missing tool tells the user', () => {
  it('names the tool, why Nix did not supply it, and the Debian package', () => {
    assert.equal(
      missingToolHint(go, nixpkgs),
      'Go 1.23 is not on this machine and Nix cannot fetch nixpkgs: install golang-go, or let this server reach nixpkgs',
    );
  });

  it('says what the host has instead, and what to do where Nix cannot build at all', () => {
    assert.equal(
      missingToolHint(
        { name: 'python', wanted: '3.13', provided: '3.11.2', status: 'mismatch' },
        { cause: 'nix', detail: 'nix: not found', message: '' },
      ),
      'Python 3.13 is not on this machine (it has 3.11.2) and Nix cannot build here: install python3, or install Nix (with flakes) on this server',
    );
  });

  it('points a server configured for host toolchains at the Nix provider', () => {
    assert.equal(
      missingToolHint({ name: 'uv', wanted: null, provided: null, status: 'missing' }, configuredFallback),
      'uv is not on this machine: run pipx install uv, or run the server with --environment-provider auto to build with Nix',
    );
  });

  it('shows the range a repository asked for, and why the npm registry could not help', () => {
    assert.equal(
      missingToolHint(
        { name: 'node', wanted: '24', requested: '>=22', provided: '20.20.2', status: 'mismatch' },
        nixpkgs,
        'npm view could not finish (exit code 1)',
      ),
      'Node >=22 is not on this machine (it has 20.20.2), the npm registry could not supply it (npm view could not finish (exit code 1)) and Nix cannot fetch nixpkgs: install nodejs, or let this server reach nixpkgs',
    );
  });
});
