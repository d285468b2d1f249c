import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusedAddress } from './host-addresses.js';

describe('refusedAddress', () => {
  it('refuses the cloud metadata addresses', () => {
    for (const address of ['169.254.169.254', 'fd00:ec2::254', '[fd00:ec2::254]', '100.100.100.200'])
      assert.equal(refusedAddress(address), 'metadata', address);
  });

  it('refuses link-local addresses, IPv4 ones also when mapped into IPv6', () => {
    for (const address of [
      '169.254.0.1',
      '169.254.255.255',
      'fe80::1',
      'febf:ffff::1',
      '::ffff:169.254.1.2',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a9fe:102',
    ])
      assert.ok(refusedAddress(address) !== undefined, address);
    assert.equal(refusedAddress('169.254.1.1'), 'link-local');
    assert.equal(refusedAddress('fe80::abcd'), 'link-local');
  });

  it('refuses the unspecified addresses', () => {
    for (const address of ['0.0.0.0', '0.1.2.3', '::', '[::]', '::ffff:0.0.0.0'])
      assert.equal(refusedAddress(address), 'unspecified', address);
  });

  it('allows loopback, private, shared and public addresses, and host names (resolved elsewhere)', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      'fd12:3456::1',
      'fec0::1',
      '100.64.0.1',
      '140.82.112.3',
      '2606:4700::1111',
      '169.253.255.255',
      '169.255.0.0',
      'github.com',
    ])
      assert.equal(refusedAddress(address), undefined, address);
  });
});
