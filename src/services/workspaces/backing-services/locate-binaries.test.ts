import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseBinary, type ServiceBinary, versionSatisfies } from './locate-binaries.js';
import { databaseName } from './service-kinds.js';

const binary = (version: string, fromPath = false): ServiceBinary => ({
  program: `/opt/${version}/bin/postgres`,
  binDir: `/opt/${version}/bin`,
  version,
  fromPath,
});

describe('choosing a service binary', () => {
  it('treats a release of the wanted version as satisfying it', () => {
    assert.equal(versionSatisfies('15', '15.18'), true);
    assert.equal(versionSatisfies('7.2', '7.2.4'), true);
    assert.equal(versionSatisfies('16-alpine', '16.1'), true);
    assert.equal(versionSatisfies('7.2', '7.0.15'), false);
    assert.equal(versionSatisfies('1', '15.2'), false);
  });

  it('prefers the wanted version wherever it is, then the workspace PATH, then the newest', () => {
    const host = [binary('16.2'), binary('15.6')];
    const path = binary('14.1', true);
    assert.deepEqual(chooseBinary([path, ...host], '15'), { binary: host[1], mismatch: false });
    assert.deepEqual(chooseBinary([path, ...host], '13'), { binary: path, mismatch: true });
    assert.deepEqual(chooseBinary([binary('15.6'), binary('16.2')], '13'), {
      binary: host[0],
      mismatch: true,
    });
    assert.deepEqual(chooseBinary(host, null), { binary: host[0], mismatch: false });
    assert.equal(chooseBinary([], '15'), undefined);
  });

  it('names databases so that they need no quoting', () => {
    assert.equal(databaseName('My-App.v2'), 'my_app_v2');
    assert.equal(databaseName('2048'), '_2048');
    assert.equal(databaseName(undefined), 'app');
    assert.equal(databaseName('---'), 'app');
  });
});
