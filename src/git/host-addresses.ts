// Which network addresses a repository may not live at: link-local ones (where clouds serve
// instance metadata and credentials), the metadata addresses themselves, and the unspecified
// address (which Linux connects to as this machine). Loopback and private ranges stay allowed:
// NixSpace is self-hosted, and a git server next to it is the common case.

import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export type RefusedAddressKind = 'metadata' | 'link-local' | 'unspecified';

const metadata = new BlockList();
metadata.addAddress('169.254.169.254', 'ipv4');
metadata.addAddress('fd00:ec2::254', 'ipv6');
// Alibaba Cloud's metadata service (in the shared address space, not link-local).
metadata.addAddress('100.100.100.200', 'ipv4');

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');
// The same IPv4 range reached through NAT64 or 6to4.
linkLocal.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
linkLocal.addSubnet('2002:a9fe::', 32, 'ipv6');

const unspecified = new BlockList();
unspecified.addSubnet('0.0.0.0', 8, 'ipv4');
unspecified.addAddress('::', 'ipv6');
unspecified.addSubnet('64:ff9b::', 104, 'ipv6');

/** Why `address` (an IPv4 or IPv6 literal) is refused, or undefined when it may be fetched from. */
export function refusedAddress(address: string): RefusedAddressKind | undefined {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return undefined;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  // BlockList matches IPv4-mapped IPv6 (::ffff:169.254.169.254) against the IPv4 rules too.
  if (metadata.check(bare, type)) return 'metadata';
  if (linkLocal.check(bare, type)) return 'link-local';
  if (unspecified.check(bare, type)) return 'unspecified';
  return undefined;
}

export const describeRefusedKind: Record<RefusedAddressKind, string> = {
  metadata: 'a cloud metadata address',
  'link-local': 'a link-local address (169.254.0.0/16, fe80::/10), where cloud metadata services live',
  unspecified: 'the unspecified address (0.0.0.0, ::)',
};

/** Every address a host name resolves to, as the system resolver (and so git) sees them. */
export type ResolveHost = (hostname: string) => Promise<string[]>;

export const systemResolve: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** The host name of a URL as a resolver takes it: IPv6 literals without their brackets. */
export function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1');
}

export function isAddressLiteral(hostname: string): boolean {
  return isIP(bareHost(hostname)) !== 0;
}
