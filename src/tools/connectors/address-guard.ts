import { ConnectorError } from './connector-error.ts';
import { type Cidr, type IpBytes, inCidr, parseCidr, parseIp } from './ip-address.ts';

/** What an address is, when it is not on the public internet. */
export type AddressKind =
  | 'public'
  | 'cloud metadata'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared (carrier-grade NAT)'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

const ranges = (kind: AddressKind, ...cidrs: string[]) =>
  cidrs.map((cidr) => ({ kind, cidr: parseCidr(cidr)! }));

/** Instance metadata services (AWS, GCP, Azure, OpenStack, ECS, Alibaba): never allowed by `true`. */
const metadata = ranges(
  'cloud metadata',
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  'fd00:ec2::254',
);

const nonPublic = [
  ...ranges('unspecified', '0.0.0.0/8'),
  ...ranges('private', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'),
  ...ranges('shared (carrier-grade NAT)', '100.64.0.0/10'),
  ...ranges('loopback', '127.0.0.0/8'),
  ...ranges('link-local', '169.254.0.0/16'),
  ...ranges(
    'reserved',
    '192.0.0.0/24',
    '192.0.2.0/24',
    '192.88.99.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '240.0.0.0/4',
  ),
  ...ranges('multicast', '224.0.0.0/4'),
  ...ranges('unspecified', '::/128'),
  ...ranges('loopback', '::1/128'),
  // IPv4-compatible (deprecated) addresses, discard prefix, Teredo, documentation.
  ...ranges('reserved', '::/96', '100::/64', '2001::/32', '2001:db8::/32'),
  ...ranges('private', 'fc00::/7'),
  ...ranges('link-local', 'fe80::/10', 'fec0::/10'),
  ...ranges('multicast', 'ff00::/8'),
];

/** IPv6 forms that carry an IPv4 address the packet may end up at: where it sits. */
const embeddings: Array<{ cidr: Cidr; at: number }> = [
  { cidr: parseCidr('::ffff:0:0/96')!, at: 12 }, // IPv4-mapped
  { cidr: parseCidr('64:ff9b::/96')!, at: 12 }, // NAT64
  { cidr: parseCidr('64:ff9b:1::/48')!, at: 12 }, // local-use NAT64
  { cidr: parseCidr('2002::/16')!, at: 2 }, // 6to4
];

/** Classifies an address; an IPv6 address carrying an IPv4 one is judged by that. */
export function classifyAddress(bytes: IpBytes): AddressKind {
  const embedded = embeddedIpv4(bytes);
  if (embedded !== undefined) return classifyAddress(embedded);
  const match =
    metadata.find(({ cidr }) => inCidr(bytes, cidr)) ??
    nonPublic.find(({ cidr }) => inCidr(bytes, cidr));
  return match?.kind ?? 'public';
}

function embeddedIpv4(bytes: IpBytes): IpBytes | undefined {
  if (bytes.length !== 16) return undefined;
  const form = embeddings.find(({ cidr }) => inCidr(bytes, cidr));
  return form ? bytes.slice(form.at, form.at + 4) : undefined;
}

/**
 * Hosts and networks the http connector may reach beyond the public internet: `true` for
 * every private, loopback and link-local address (cloud metadata services still need to be
 * named), or a list of host names and addresses or CIDRs.
 */
export type AllowPrivate = boolean | string[];

/**
 * Decides whether a connection may go to an address. Public addresses pass; the rest only
 * when allowed (by `true`, by a matching address or CIDR, or by the URL's host name).
 */
export class AddressGuard {
  private readonly allowAll: boolean;
  private readonly networks: Cidr[] = [];
  private readonly hosts = new Set<string>();

  constructor(allowPrivate: AllowPrivate = false) {
    this.allowAll = allowPrivate === true;
    for (const entry of Array.isArray(allowPrivate) ? allowPrivate : []) {
      const network = parseCidr(entry);
      if (network !== undefined) this.networks.push(network);
      else if (/^[a-z0-9.-]+$/i.test(entry)) this.hosts.add(normalizeHost(entry));
      else {
        throw new ConnectorError(
          `http connector: allowPrivate entry "${entry}" is neither a host name, an address nor a CIDR`,
        );
      }
    }
  }

  /**
   * Throws a one-line ConnectorError when `address` (what `host` in `url` resolved to) may
   * not be reached.
   */
  check(url: string, host: string, address: string): void {
    const bytes = parseIp(address);
    if (bytes === undefined) {
      throw new ConnectorError(`URL "${url}": "${address}" is not an IP address`);
    }
    const kind = classifyAddress(bytes);
    if (kind === 'public' || this.allows(host, bytes, kind)) return;
    const where = parseIp(host) === undefined ? 'resolves to' : 'goes to';
    const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
    throw new ConnectorError(
      `URL "${url}" ${where} ${address}, ${article} ${kind} address; refused (private, loopback, link-local and metadata addresses need the http connector's allowPrivate)`,
    );
  }

  private allows(host: string, bytes: IpBytes, kind: AddressKind): boolean {
    if (this.hosts.has(normalizeHost(host))) return true;
    const plain = embeddedIpv4(bytes) ?? bytes;
    if (this.networks.some((network) => inCidr(bytes, network) || inCidr(plain, network))) {
      return true;
    }
    return this.allowAll && kind !== 'cloud metadata';
  }
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
