import { forbiddenRange, hostOf, parseAllowList, refusedAddress, refusedCallbackUrl, NO_ALLOWED_HOSTS } from './webhook-address';

describe('webhook SSRF rules: which addresses a delivery may reach', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['169.254.169.254', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback (IPv4 in IPv6)'],
    ['::ffff:7f00:1', 'loopback (IPv4 in IPv6)'],
    ['::ffff:169.254.169.254', 'linkLocal (IPv4 in IPv6)'],
    ['::ffff:10.0.0.1', 'private (IPv4 in IPv6)'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal (IPv4 in IPv6)'],
    ['::7f00:1', 'loopback (IPv4 in IPv6)'],
    ['::a9fe:a9fe', 'linkLocal (IPv4 in IPv6)'],
    ['::127.0.0.1', 'not an IP address'],
    ['[::1]', 'loopback'],
  ])('forbids %s (%s)', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });

  it('reads IPv4 written in decimal, octal or hex as the address it is (the URL parser normalizes it)', () => {
    expect(hostOf('http://2130706433/hook')).toBe('127.0.0.1');
    expect(hostOf('http://0x7f.1/hook')).toBe('127.0.0.1');
    expect(hostOf('http://017700000001/hook')).toBe('127.0.0.1');
    for (const url of ['http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/']) {
      expect(refusedCallbackUrl(url, NO_ALLOWED_HOSTS)).toMatch(/public address/);
    }
  });

  it('refuses at the gateway literal forbidden addresses and local names, not public hosts', () => {
    expect(refusedCallbackUrl('http://169.254.169.254/latest/meta-data', NO_ALLOWED_HOSTS)).toMatch(/169\.254\.169\.254 is linkLocal/);
    expect(refusedCallbackUrl('https://[fd00::1]/x', NO_ALLOWED_HOSTS)).toMatch(/uniqueLocal/);
    expect(refusedCallbackUrl('http://localhost:8080/x', NO_ALLOWED_HOSTS)).toMatch(/local name/);
    expect(refusedCallbackUrl('http://api.localhost/x', NO_ALLOWED_HOSTS)).toMatch(/local name/);
    expect(refusedCallbackUrl('https://hooks.example.com/x', NO_ALLOWED_HOSTS)).toBeUndefined();
    expect(refusedCallbackUrl('https://8.8.8.8/x', NO_ALLOWED_HOSTS)).toBeUndefined();
  });

  it('lets the allow-list permit hosts, addresses and ranges', () => {
    const allow = parseAllowList(' 127.0.0.1 , 10.0.0.0/8, hooks.internal, fd00::/8 ');
    expect(refusedCallbackUrl('http://127.0.0.1:9000/x', allow)).toBeUndefined();
    expect(refusedCallbackUrl('http://10.2.3.4/x', allow)).toBeUndefined();
    expect(refusedCallbackUrl('http://hooks.internal/x', allow)).toBeUndefined();
    expect(refusedCallbackUrl('http://[fd00::5]/x', allow)).toBeUndefined();
    expect(refusedCallbackUrl('http://127.0.0.2/x', allow)).toMatch(/loopback/);
    expect(refusedCallbackUrl('http://192.168.0.1/x', allow)).toMatch(/private/);
    expect(() => parseAllowList('10.0.0.0/99')).toThrow(/CIDR/);
    expect(() => parseAllowList('hooks_example')).toThrow(/neither/);
  });

  it('lets an allowed address be reached only when the URL names it, never through DNS', () => {
    const allow = parseAllowList('127.0.0.1,hooks.internal');
    expect(refusedAddress('127.0.0.1', '127.0.0.1', allow)).toBeUndefined();
    expect(refusedAddress('localhost', '127.0.0.1', allow)).toMatch(/localhost resolves to 127\.0\.0\.1 \(loopback\)/);
    expect(refusedAddress('rebind.example.com', '10.0.0.1', allow)).toMatch(/private/);
    expect(refusedAddress('hooks.internal', '10.0.0.1', allow)).toBeUndefined();
    expect(refusedAddress('hooks.example.com', '93.184.216.34', NO_ALLOWED_HOSTS)).toBeUndefined();
  });
});
