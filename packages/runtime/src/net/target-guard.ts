import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/*
 * SSRF: an endpoint URL is chosen by whoever registers it, and Herald makes
 * the request from inside the network. Only http(s) to public addresses,
 * checked at registration and again at every delivery on the addresses DNS
 * gives then, and the connection goes to the very address that was checked
 * (see `guardedLookup`): a name that resolved to a public address when it was
 * registered and to 127.0.0.1 later (DNS rebinding) is refused at delivery.
 */

/** What may be aimed at, from config. */
export interface TargetPolicy {
  /** every address allowed (development, tests on loopback) */
  allowPrivate: boolean;
  /** lowercase host names and IP addresses allowed though internal */
  allowedHosts: readonly string[];
}

/** Resolves a host name to every address it has (`dns.lookup`, all families, as the OS would). */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** Why a target is refused: `reason` goes to the API error or the attempts log. */
export class TargetRefusedError extends Error {
  constructor(
    readonly code: 'scheme_not_allowed' | 'credentials_in_url' | 'address_not_allowed' | 'host_unresolvable',
    detail: string,
  ) {
    super(detail);
  }
}

/** Internal and special-purpose ranges (IANA special registries): never a public receiver. */
const internal = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata at 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
] as const) {
  internal.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  internal.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail, if any). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/** The IPv4 address an IPv6 one carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const allZero = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible, deprecated), ::ffff:0:a.b.c.d (translated)
  if (allZero(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6]!, groups[7]!);
  if (allZero(0, 4) && groups[4] === 0xffff && groups[5] === 0) return v4(groups[6]!, groups[7]!);
  // 64:ff9b::/96 (NAT64)
  if (groups[0] === 0x64 && groups[1] === 0xff9b && allZero(2, 6)) return v4(groups[6]!, groups[7]!);
  // 2002::/16 (6to4): the IPv4 address is in the next 32 bits
  if (groups[0] === 0x2002) return v4(groups[1]!, groups[2]!);
  return undefined;
}

/** Whether an IP address (v4 or v6, any textual form `isIP` accepts) is internal or special. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: never connect to it
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined && internal.check(v4, 'ipv4')) return true;
  return internal.check(address.split('%')[0]!, 'ipv6');
}

/** The URL's host as an address or name: brackets off, lowercase, no trailing dot. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase()
    .replace(/\.$/, '');
}

function allowedByConfig(policy: TargetPolicy, host: string): boolean {
  return policy.allowPrivate || policy.allowedHosts.includes(host);
}

/**
 * Parses a target and refuses what is never allowed: a scheme other than
 * http(s), credentials in the URL. The WHATWG parser already gives every
 * spelling of an IPv4 address its dotted form (`127.1`, `0x7f000001`,
 * `2130706433`, `0177.0.0.1` are all `127.0.0.1`).
 */
export function parseTarget(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError('scheme_not_allowed', 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TargetRefusedError('scheme_not_allowed', 'must be an http or https URL');
  if (url.username || url.password)
    throw new TargetRefusedError('credentials_in_url', 'must not carry credentials');
  return url;
}

/**
 * The addresses a target may be reached at, all checked: a literal address
 * as it is; a name through DNS, refused whole if any of its addresses is
 * internal (a name with one public and one loopback address could be made
 * to connect to either). `localhost` and `*.localhost` are loopback by
 * definition (RFC 6761), whatever the resolver says.
 */
export async function checkedAddresses(
  url: URL,
  policy: TargetPolicy,
  resolve: ResolveHost,
): Promise<string[]> {
  const host = hostOf(url);
  const allowed = allowedByConfig(policy, host);
  if (isIP(host)) {
    if (!allowed && isInternalAddress(host)) throw refusedAddress(host);
    return [host];
  }
  if (!allowed && (host === 'localhost' || host.endsWith('.localhost'))) throw refusedAddress(host);
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0)
    throw new TargetRefusedError('host_unresolvable', `the host ${host} does not resolve`);
  if (allowed) return addresses;
  const refused = addresses.find(
    (address) => !policy.allowedHosts.includes(address) && isInternalAddress(address),
  );
  if (refused) throw refusedAddress(`${host} (${refused})`);
  return addresses;
}

function refusedAddress(what: string): TargetRefusedError {
  return new TargetRefusedError(
    'address_not_allowed',
    `must be a public address: ${what} is private, loopback, link-local or otherwise internal`,
  );
}
