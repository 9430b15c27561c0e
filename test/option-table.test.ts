import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { UDP, type Socket, type SocketOptions } from '../lib';
import { OPTION_HOMES } from '../lib/contract/options';
import { OPTION_ROWS } from '../lib/native/binding';
import { FACADE_OPTIONS } from '../lib/native/options';

const run = promisify(execFile);
const sockets: Socket[] = [];
function open(options: Parameters<typeof UDP.open>[1]): Socket {
  const socket = UDP.open(0, options);
  sockets.push(socket);
  return socket;
}
afterEach(() => {
  for (const socket of sockets.splice(0)) UDP.close(socket);
});

type Row = [name: keyof SocketOptions, value: unknown, readBack: unknown];

// Set, then read back what the kernel (or the facade) keeps. Buffer sizes come back doubled,
// as the kernel reports them and inet passes them on.
const common: Row[] = [
  ['broadcast', true, true],
  ['recbuf', 65536, 131072],
  ['sndbuf', 65536, 131072],
  ['reuseaddr', false, false],
  ['reuseport', false, false],
  ['reuseport_lb', true, true],
  ['priority', 5, 5],
  ['tos', 0x48, 0x48],
  ['ttl', 9, 9],
  ['recvtos', true, true],
  ['recvttl', true, true],
  ['dontroute', true, true],
  ['multicast_loop', false, false],
  ['multicast_all', false, false],
  ['multicast_ttl', 4, 4],
  ['bind_to_device', 'lo', 'lo'],
  ['pktinfo', true, true],
  ['recvorigdstaddr', true, true],
  ['timestamp', true, true],
  ['rxq_ovfl', true, true],
  ['gro', true, true],
  ['segment', 1200, 1200],
  ['recverr', true, true],
  ['mtu_discover', 'do', 'do'],
  ['freebind', true, true],
  ['transparent', true, true],
  ['mark', 0xfeed, 0xfeed],
  ['busy_poll', 10, 10],
  ['active', 'once', 'once'],
  ['buffer', 1500, 1500],
  ['read_packets', 8, 8],
  ['coalesce', { usecs: 750, packets: 16 }, { usecs: 750, packets: 16 }],
  ['mode', 'binary', 'binary'],
];

test('one option table: the addon\'s rows, the facade\'s own options and SocketOptions name the same options', () => {
  const homes = Object.entries(OPTION_HOMES);
  // Every row of the addon's table is a kernel option of the contract, IPv6-only exactly when
  // it has no IPv4 site; every kernel option but raw (which takes any level and number) is a row.
  expect(OPTION_ROWS.map((row) => [row.name, row.inet[0] < 0 && row.inet6[0] >= 0 ? 'kernel6' : 'kernel']).sort())
    .toEqual(homes.filter(([name, home]) => home !== 'facade' && name !== 'raw').sort());
  expect(homes.filter(([, home]) => home === 'facade').map(([name]) => name).sort()).toEqual(Object.keys(FACADE_OPTIONS).sort());
});

/** Every readable option of a family has a sample here: adding an option without one fails. */
function readableOn(family: 'inet' | 'inet6'): string[] {
  const rows = OPTION_ROWS.filter((row) => row.readable && row[family][0] >= 0).map((row) => row.name);
  return [...rows, ...Object.keys(FACADE_OPTIONS)];
}

describe.each([
  ['inet', { ip: '127.0.0.1' }, [['multicast_if', '127.0.0.1', '127.0.0.1']] as Row[]],
  ['inet6', { ip: '::1' }, [
    ['tclass', 0x20, 0x20], ['recvtclass', true, true], ['recvhoplimit', true, true], ['unicast_hops', 12, 12],
    ['multicast_hops', 3, 3], ['multicast_if', 1, 1],
  ] as Row[]],
])('%s socket', (_family, listenOptions, extra) => {
  test('every readable option of the family has a round-trip sample here, or a test of its own below', () => {
    const sampled = new Set([...common, ...extra].map(([name]) => name as string));
    const ownTests = ['rcvbufforce', 'sndbufforce', 'incoming_cpu', 'ipv6_v6only'];
    expect(readableOn(_family as 'inet' | 'inet6').filter((name) => !sampled.has(name) && !ownTests.includes(name))).toEqual([]);
  });

  test.each([...common, ...extra])('%s round-trips through setopts/getopts', (name, value, readBack) => {
    const socket = open(listenOptions as never);
    UDP.setopts(socket, { [name]: value });
    expect(UDP.getopts(socket, [name])).toEqual({ [name]: readBack });
  });

  test('rcvbufforce and sndbufforce go past the limit and read back as recbuf and sndbuf do', () => {
    const socket = open(listenOptions as never);
    UDP.setopts(socket, { rcvbufforce: 4 << 20, sndbufforce: 3 << 20 });
    expect(UDP.getopts(socket, ['rcvbufforce', 'sndbufforce', 'recbuf', 'sndbuf'])).toEqual({
      rcvbufforce: 8 << 20, sndbufforce: 6 << 20, recbuf: 8 << 20, sndbuf: 6 << 20,
    });
  });

  test('incoming_cpu is set and reads back as the kernel reports it', () => {
    const socket = open(listenOptions as never);
    UDP.setopts(socket, { incoming_cpu: 0 });
    const { incoming_cpu: cpu } = UDP.getopts(socket, ['incoming_cpu']);
    expect(Number.isInteger(cpu)).toBe(true);
    expect(cpu).toBeGreaterThanOrEqual(-1);
  });

  test('set-only options (memberships) cannot be read: einval', () => {
    const socket = open(listenOptions as never);
    for (const name of ['add_membership', 'drop_membership', 'add_source_membership', 'drop_source_membership'] as const) {
      expect(() => UDP.getopts(socket, [name])).toThrow(expect.objectContaining({ reason: 'einval', message: expect.stringContaining(name) }));
    }
  });
});

test('IPv6-only options on an IPv4 socket fail einval, naming the option', () => {
  const socket = open({ ip: '127.0.0.1' });
  for (const [name, value] of [['tclass', 1], ['recvtclass', true], ['recvhoplimit', true], ['unicast_hops', 1], ['multicast_hops', 1], ['ipv6_v6only', true]] as const) {
    expect(() => UDP.setopts(socket, { [name]: value })).toThrow(expect.objectContaining({ reason: 'einval', message: expect.stringContaining(`'${name}'`) }));
    expect(() => UDP.getopts(socket, [name])).toThrow(expect.objectContaining({ reason: 'einval' }));
  }
});

test('ipv6_v6only is a listen option: applied before bind, refused by the kernel after', () => {
  const only = open({ ip: '::', family: 'inet6', ipv6_v6only: true });
  expect(UDP.getopts(only, ['ipv6_v6only'])).toEqual({ ipv6_v6only: true });
  const dual = open({ ip: '::', family: 'inet6', ipv6_v6only: false });
  expect(UDP.getopts(dual, ['ipv6_v6only'])).toEqual({ ipv6_v6only: false });
  expect(() => UDP.setopts(dual, { ipv6_v6only: true })).toThrow(expect.objectContaining({ reason: 'einval', syscall: 'setsockopt' }));
});

test('getopts returns exactly the names asked for, in one object', () => {
  const socket = open({ ip: '127.0.0.1', ttl: 33 });
  expect(UDP.getopts(socket, ['ttl', 'active', 'reuseaddr'])).toEqual({ ttl: 33, active: false, reuseaddr: true });
  expect(UDP.getopts(socket, [])).toEqual({});
});

describe('multicast membership', () => {
  test('IPv4 any-source and source-specific join and leave; a joined group delivers', async () => {
    const receiver = open({ ip: 'any' });
    const port = (UDP.sockname(receiver) as { port: number }).port;
    UDP.setopts(receiver, { add_membership: ['239.7.7.7', '127.0.0.1'] });
    const sender = open({ ip: '127.0.0.1', multicast_if: '127.0.0.1' });
    await UDP.send(sender, '239.7.7.7', port, 'group');
    expect(String((await UDP.recv(receiver, 0, 2000)).data)).toBe('group');
    UDP.setopts(receiver, { drop_membership: ['239.7.7.7', '127.0.0.1'] });
    expect(() => UDP.setopts(receiver, { drop_membership: ['239.7.7.7', '127.0.0.1'] })).toThrow(expect.objectContaining({ reason: 'eaddrnotavail', syscall: 'setsockopt' }));
    UDP.setopts(receiver, { add_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
    await UDP.send(sender, '232.1.1.1', port, 'from the source');
    expect(String((await UDP.recv(receiver, 0, 2000)).data)).toBe('from the source');
    UDP.setopts(receiver, { drop_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
  });

  test('IPv6 any-source and source-specific join and leave', () => {
    const receiver = open({ ip: '::', family: 'inet6' });
    UDP.setopts(receiver, { add_membership: ['ff12::77', 1] });
    UDP.setopts(receiver, { drop_membership: ['ff12::77', 1] });
    UDP.setopts(receiver, { add_source_membership: ['ff32::8000:1', 1, '::1'] });
    UDP.setopts(receiver, { drop_source_membership: ['ff32::8000:1', 1, '::1'] });
    expect(() => UDP.setopts(receiver, { add_membership: ['ff12::77', 'nosuchif0'] })).toThrow(expect.objectContaining({ reason: 'badarg' }));
  });

  test('a kernel refusal in setopts undoes what the same call already did', () => {
    const socket = open({ ip: 'any', tos: 0 });
    expect(() => UDP.setopts(socket, { tos: 0x10, add_membership: ['239.8.8.8', '127.0.0.1'], recbuf: 100000, bind_to_device: 'no-such-device' }))
      .toThrow(expect.objectContaining({ reason: 'enodev', message: expect.stringContaining('bind_to_device') }));
    expect(UDP.getopts(socket, ['tos', 'recbuf'])).toEqual({ tos: 0, recbuf: 212992 });
    // The membership was dropped again: dropping it now is refused.
    expect(() => UDP.setopts(socket, { drop_membership: ['239.8.8.8', '127.0.0.1'] })).toThrow(expect.objectContaining({ reason: 'eaddrnotavail' }));
  });
});

describe('raw options', () => {
  test('set and get with lengths checked', () => {
    const socket = open({ ip: '127.0.0.1' });
    const SOL_SOCKET = 1;
    const SO_PRIORITY = 12;
    const value = Buffer.alloc(4);
    value.writeInt32LE(3);
    UDP.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value } });
    expect(UDP.getopts(socket, ['priority'])).toEqual({ priority: 3 });
    expect(UDP.getopts(socket, [{ raw: { level: SOL_SOCKET, option: SO_PRIORITY, length: 4 } }]))
      .toEqual({ raw: { level: SOL_SOCKET, option: SO_PRIORITY, value } });
    expect(() => UDP.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value: Buffer.alloc(2) } }))
      .toThrow(expect.objectContaining({ reason: 'einval', syscall: 'setsockopt' }));
    expect(() => UDP.getopts(socket, [{ raw: { level: SOL_SOCKET, option: SO_PRIORITY, length: 5000 } }]))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value: 'x' } as never }))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => UDP.setopts(socket, { raw: { level: -1, option: SO_PRIORITY, value } }))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
  });
});

test('privileged options fail with the kernel reason for a process without CAP_NET_ADMIN', async () => {
  const script = `
    const { UDP } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
    const s = UDP.open(0, { ip: '127.0.0.1' });
    const out = {};
    for (const [name, value] of [['mark', 5], ['transparent', true], ['rcvbufforce', 1 << 20], ['priority', 7]]) {
      try { UDP.setopts(s, { [name]: value }); out[name] = 'ok'; } catch (e) { out[name] = e.reason; }
    }
    console.log(JSON.stringify(out));`;
  // As root, keep the user but drop every capability (CAP_NET_ADMIN with them).
  const command = process.getuid?.() === 0
    ? ['setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, '-e', script]]
    : [process.execPath, ['-e', script]];
  const { stdout } = await run(command[0] as string, command[1] as string[], { cwd: '/' });
  expect(JSON.parse(stdout)).toEqual({ mark: 'eperm', transparent: 'eperm', rcvbufforce: 'eperm', priority: 'eperm' });
});
