import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/**
 * The SSRF rules of webhooks. A webhook may reach only public unicast
 * addresses: never loopback, private (RFC 1918), CGNAT (100.64/10),
 * link-local (cloud metadata 169.254.169.254 included), unspecified,
 * broadcast, multicast, reserved, IPv6 unique-local (fc00::/7, AWS's
 * fd00:ec2::254), link-local or loopback, nor an IPv6 form that carries an
 * IPv4 address (mapped, NAT64, 6to4, Teredo) — unless the configuration's
 * allow-list names the target.
 */

/** WEBHOOK_ALLOWED_HOSTS, parsed. */
export interface WebhookAllowList {
  /** Hostnames allowed whatever they resolve to (lower case). */
  hosts: ReadonlySet<string>;
  /** Address ranges a URL may name literally. */
  ranges: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

export const NO_ALLOWED_HOSTS: WebhookAllowList = { hosts: new Set(), ranges: [] };

/** The allow-list from WEBHOOK_ALLOWED_HOSTS (hostnames, IP addresses, CIDRs, comma-separated); throws on an entry it cannot read. */
export function parseAllowList(setting: string): WebhookAllowList {
  const hosts = new Set<string>();
  const ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  for (const raw of setting.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry.includes('/')) {
      try {
        ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`WEBHOOK_ALLOWED_HOSTS: ${JSON.stringify(entry)} is not a CIDR range (like 10.0.0.0/8 or fd00::/8)`);
      }
    } else if (isIP(bare(entry))) {
      const address = ipaddr.parse(bare(entry));
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9.-]+$/.test(entry)) {
      hosts.add(entry.replace(/\.$/, ''));
    } else {
      throw new Error(`WEBHOOK_ALLOWED_HOSTS: ${JSON.stringify(entry)} is neither a hostname, an IP address nor a CIDR range`);
    }
  }
  return { hosts, ranges };
}

/** An IPv6 literal without its URL brackets. */
const bare = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, IPv4-compatible ::a.b.c.d), if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  const [a, b, c, d, e, f] = address.parts;
  const lastTwo = address.toByteArray().slice(12);
  if (address.range() === 'rfc6052') return new ipaddr.IPv4(lastTwo);
  // ::a.b.c.d (deprecated, but some stacks still route it to the IPv4 address); :: and ::1 are not.
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && !['unspecified', 'loopback'].includes(address.range())) return new ipaddr.IPv4(lastTwo);
  return undefined;
}

/** Why an address is forbidden as a webhook target (its range's name), or undefined for a public unicast address. */
export function forbiddenRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(bare(address));
  } catch {
    return 'not an IP address';
  }
  if (parsed.kind() === 'ipv6') {
    const inner = embeddedIPv4(parsed as ipaddr.IPv6);
    if (inner) {
      const range = inner.range();
      return range === 'unicast' ? undefined : `${range} (IPv4 in IPv6)`;
    }
  }
  const range = parsed.range();
  return range === 'unicast' ? undefined : range;
}

function inRanges(address: string, allow: WebhookAllowList): boolean {
  const parsed = ipaddr.parse(bare(address));
  // Same kind on both sides, so the casts only tell TypeScript what kind() checked.
  return allow.ranges.some(([net, bits]) => net.kind() === parsed.kind() && (parsed as ipaddr.IPv4).match(net as ipaddr.IPv4, bits));
}

/** Hostnames that name this machine or its network by definition (RFC 6761), whatever DNS says. */
const LOCAL_NAME = /(^|\.)(localhost|localdomain|local|internal)$/;

/**
 * Why the gateway refuses `url` as a callback_url before queueing (undefined
 * when it may be queued): a literal address outside public unicast, or a
 * local name such as `localhost`, unless the allow-list names it. A hostname
 * is checked again, resolved, at every delivery (refusedAddress).
 * `url` must already satisfy callbackUrlProblem.
 */
export function refusedCallbackUrl(url: string, allow: WebhookAllowList): string | undefined {
  const host = hostOf(url);
  if (allow.hosts.has(host)) return undefined;
  if (isIP(bare(host))) {
    const range = forbiddenRange(host);
    if (range === undefined || inRanges(host, allow)) return undefined;
    return `callback_url must reach a public address; ${host} is ${range} (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  }
  if (LOCAL_NAME.test(host)) return `callback_url must reach a public address; ${host} is a local name (allow it with WEBHOOK_ALLOWED_HOSTS)`;
  return undefined;
}

/** The URL's host as the WHATWG parser reads it: lower case, IPv4 in dotted decimal whatever form it was written in (0x7f.1, 2130706433). */
export function hostOf(url: string): string {
  return new URL(url).hostname.replace(/\.$/, '');
}

/**
 * Why a delivery to `host` must not connect to `address` (one of the
 * addresses `host` resolved to, or `host` itself when it is an IP literal):
 * undefined when it may. A hostname the allow-list names may reach any
 * address; an address the allow-list's ranges hold may be reached only when
 * the URL names it literally, so no DNS answer can steer a delivery there.
 */
export function refusedAddress(host: string, address: string, allow: WebhookAllowList): string | undefined {
  if (allow.hosts.has(host)) return undefined;
  const range = forbiddenRange(address);
  if (range === undefined) return undefined;
  if (isIP(bare(host)) && inRanges(address, allow)) return undefined;
  return `refused: ${host} resolves to ${address} (${range}); webhooks reach public addresses only (see WEBHOOK_ALLOWED_HOSTS)`;
}
