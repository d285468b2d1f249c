import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMountInfo } from './mount-table.js';

describe('the mount table', () => {
  it('reads mount points, sources and types, with the escapes of mountinfo undone', () => {
    const text = [
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
      '45 27 7:0 / /var/lib/my\\040data/workspaces/w1 rw,nosuid,nodev,relatime - ext4 /dev/loop0 rw',
      '',
    ].join('\n');
    assert.deepEqual(parseMountInfo(text), [
      { mountPoint: '/', source: '/dev/vda', fsType: 'ext4' },
      { mountPoint: '/var/lib/my data/workspaces/w1', source: '/dev/loop0', fsType: 'ext4' },
    ]);
  });
});
