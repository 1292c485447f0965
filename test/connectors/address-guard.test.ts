import { describe, expect, test } from 'vitest';
import { AddressGuard, classifyAddress } from '../../src/tools/connectors/address-guard.ts';
import { parseCidr, parseIp } from '../../src/tools/connectors/ip-address.ts';

function kind(address: string) {
  const bytes = parseIp(address);
  if (bytes === undefined) throw new Error(`not an address: ${address}`);
  return classifyAddress(bytes);
}

describe('address guard', () => {
  test.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.127.255.255', 'shared (carrier-grade NAT)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['ff02::1', 'multicast'],
  ])('%s is %s', (address, expected) => {
    expect(kind(address)).toBe(expected);
  });

  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
  ])('%s is public', (address) => {
    expect(kind(address)).toBe('public');
  });

  test('parses networks and refuses malformed ones', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ bytes: Uint8Array.from([10, 0, 0, 0]), prefix: 8 });
    expect(parseCidr('fc00::/7')?.prefix).toBe(7);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/1')).toBeUndefined();
    expect(parseCidr('example.com')).toBeUndefined();
  });

  test('refuses non-public addresses by default, naming the URL, address and kind', () => {
    const guard = new AddressGuard();
    expect(() => guard.check('http://a.test/', 'a.test', '10.0.0.1')).toThrow(
      `URL "http://a.test/" resolves to 10.0.0.1, a private address; refused (private, loopback, link-local and metadata addresses need the http connector's allowPrivate)`,
    );
    expect(() => guard.check('http://[::1]/', '[::1]', '::1')).toThrow(
      'URL "http://[::1]/" goes to ::1, a loopback address; refused',
    );
    expect(() => guard.check('http://x.test/', 'x.test', '203.0.113.9')).toThrow(/reserved/);
    expect(() => guard.check('http://x.test/', 'x.test', '93.184.215.14')).not.toThrow();
  });

  test('allowPrivate: true allows private addresses but not cloud metadata', () => {
    const guard = new AddressGuard(true);
    expect(() => guard.check('http://x.test/', 'x.test', '10.0.0.1')).not.toThrow();
    expect(() => guard.check('http://x.test/', 'x.test', '127.0.0.1')).not.toThrow();
    expect(() => guard.check('http://x.test/', 'x.test', '169.254.169.254')).toThrow(
      /a cloud metadata address; refused/,
    );
    expect(() => guard.check('http://x.test/', 'x.test', '::ffff:169.254.169.254')).toThrow(
      /cloud metadata/,
    );
  });

  test('a list allows named hosts, addresses and networks only', () => {
    const guard = new AddressGuard(['Intranet.Test.', '10.1.0.0/16', '::1', '169.254.169.254']);
    expect(() => guard.check('http://intranet.test/', 'intranet.test', '10.9.9.9')).not.toThrow();
    expect(() => guard.check('http://other.test/', 'other.test', '10.1.2.3')).not.toThrow();
    expect(() => guard.check('http://other.test/', 'other.test', '::ffff:10.1.2.3')).not.toThrow();
    expect(() => guard.check('http://other.test/', 'other.test', '10.2.0.1')).toThrow(/private/);
    expect(() => guard.check('http://[::1]/', '[::1]', '::1')).not.toThrow();
    expect(() => guard.check('http://127.0.0.1/', '127.0.0.1', '127.0.0.1')).toThrow(/loopback/);
    expect(() => guard.check('http://m.test/', 'm.test', '169.254.169.254')).not.toThrow();
    expect(() => new AddressGuard(['not a host!'])).toThrow(
      'http connector: allowPrivate entry "not a host!" is neither a host name, an address nor a CIDR',
    );
  });
});
