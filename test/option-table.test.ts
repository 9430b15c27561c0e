import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { UDP, type SocketOptions } from '../lib';
import { OPTION_HOMES } from '../lib/contract/options';
import { OPTION_ROWS } from '../lib/native/binding';
import { FACADE_OPTIONS } from '../lib/native/options';
import { closeAll, expectThrows, openSocket, track } from './helpers/sockets';
import { UNSHARED_IP, eachTransport, testNative } from './helpers/transports';

const run = promisify(execFile);
afterEach(() => closeAll());

/**
 * The options DgramUDP says it implements (lib/dgram/index.ts), by family: each of the
 * samples below round-trips there too, and every other is refused with enotsup.
 */
const DGRAM_COMMON = ['recbuf', 'sndbuf', 'buffer', 'broadcast', 'multicast_ttl', 'multicast_loop', 'multicast_if', 'reuseaddr', 'reuseport', 'mode', 'active'];
const DGRAM_OPTIONS: Record<'inet' | 'inet6', ReadonlySet<string>> = {
  inet: new Set([...DGRAM_COMMON, 'ttl']),
  inet6: new Set([...DGRAM_COMMON, 'unicast_hops', 'multicast_hops']),
};

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

const FAMILIES: ['inet' | 'inet6', { ip: string }, Row[]][] = [
  ['inet', { ip: '127.0.0.1' }, [['multicast_if', '127.0.0.1', '127.0.0.1']]],
  ['inet6', { ip: '::1' }, [
    ['tclass', 0x20, 0x20], ['recvtclass', true, true], ['recvhoplimit', true, true], ['unicast_hops', 12, 12],
    ['multicast_hops', 3, 3], ['multicast_if', 1, 1],
  ]],
];

describe.each(FAMILIES)('%s socket', (family, _listenOptions, extra) => {
  test('every readable option of the family has a round-trip sample here, or a test of its own below', () => {
    const sampled = new Set([...common, ...extra].map(([name]) => name as string));
    const ownTests = ['rcvbufforce', 'sndbufforce', 'incoming_cpu', 'ipv6_v6only'];
    expect(readableOn(family).filter((name) => !sampled.has(name) && !ownTests.includes(name))).toEqual([]);
  });
});

eachTransport((subject) => {
  const { T, open, native } = subject;

  describe.each(FAMILIES)('%s socket', (family, listenOptions, extra) => {
    const rows = [...common, ...extra];
    const has = (name: string): boolean => native || DGRAM_OPTIONS[family].has(name);

    test.each(rows.filter(([name]) => has(name)))('%s round-trips through setopts/getopts', (name, value, readBack) => {
      const socket = open(0, listenOptions);
      T.setopts(socket, { [name]: value });
      expect(T.getopts(socket, [name])).toEqual({ [name]: readBack });
    });

    const refused = rows.filter(([name]) => !has(name));
    if (refused.length > 0) {
      test.each(refused)('%s is enotsup in setopts, getopts and listen', (name, value) => {
        const socket = open(0, listenOptions);
        expectThrows(() => T.setopts(socket, { [name]: value }), 'enotsup', { message: new RegExp(`'${name}'`) });
        expectThrows(() => T.getopts(socket, [name]), 'enotsup');
        expectThrows(() => open(0, { ...listenOptions, [name]: value }), 'enotsup');
      });
    }

    testNative(subject, 'rcvbufforce and sndbufforce go past the limit and read back as recbuf and sndbuf do', () => {
      const socket = open(0, listenOptions);
      T.setopts(socket, { rcvbufforce: 4 << 20, sndbufforce: 3 << 20 });
      expect(T.getopts(socket, ['rcvbufforce', 'sndbufforce', 'recbuf', 'sndbuf'])).toEqual({
        rcvbufforce: 8 << 20, sndbufforce: 6 << 20, recbuf: 8 << 20, sndbuf: 6 << 20,
      });
    }, () => {
      const socket = open(0, listenOptions);
      for (const name of ['rcvbufforce', 'sndbufforce'] as const) {
        expectThrows(() => T.setopts(socket, { [name]: 4 << 20 }), 'enotsup');
        expectThrows(() => T.getopts(socket, [name]), 'enotsup');
      }
    });

    testNative(subject, 'incoming_cpu is set and reads back as the kernel reports it', () => {
      const socket = open(0, listenOptions);
      T.setopts(socket, { incoming_cpu: 0 });
      const { incoming_cpu: cpu } = T.getopts(socket, ['incoming_cpu']);
      expect(Number.isInteger(cpu)).toBe(true);
      expect(cpu).toBeGreaterThanOrEqual(-1);
    }, () => {
      const socket = open(0, listenOptions);
      expectThrows(() => T.setopts(socket, { incoming_cpu: 0 }), 'enotsup');
      expectThrows(() => T.getopts(socket, ['incoming_cpu']), 'enotsup');
    });

    test('set-only options (memberships) cannot be read: einval', () => {
      const socket = open(0, listenOptions);
      for (const name of ['add_membership', 'drop_membership', 'add_source_membership', 'drop_source_membership'] as const) {
        expect(() => T.getopts(socket, [name])).toThrow(expect.objectContaining({ reason: 'einval', message: expect.stringContaining(name) }));
      }
    });
  });

  test('IPv6-only options on an IPv4 socket fail einval, naming the option', () => {
    const socket = open(0, { ip: '127.0.0.1' });
    for (const [name, value] of [['tclass', 1], ['recvtclass', true], ['recvhoplimit', true], ['unicast_hops', 1], ['multicast_hops', 1], ['ipv6_v6only', true]] as const) {
      expect(() => T.setopts(socket, { [name]: value })).toThrow(expect.objectContaining({ reason: 'einval', message: expect.stringContaining(`'${name}'`) }));
      expect(() => T.getopts(socket, [name])).toThrow(expect.objectContaining({ reason: 'einval' }));
    }
  });

  test('ipv6_v6only is a listen option: applied before bind, refused by the kernel after', () => {
    const only = open(0, { ip: '::', family: 'inet6', ipv6_v6only: true });
    expect(T.getopts(only, ['ipv6_v6only'])).toEqual({ ipv6_v6only: true });
    const dual = open(0, { ip: '::', family: 'inet6', ipv6_v6only: false });
    expect(T.getopts(dual, ['ipv6_v6only'])).toEqual({ ipv6_v6only: false });
    expect(() => T.setopts(dual, { ipv6_v6only: true })).toThrow(expect.objectContaining({ reason: 'einval', syscall: 'setsockopt' }));
  });

  test('getopts returns exactly the names asked for, in one object', () => {
    // The default reuse flags, read where nobody sends (see UNSHARED_IP).
    const socket = track(T.open(0, { ip: UNSHARED_IP, ttl: 33 }));
    expect(T.getopts(socket, ['ttl', 'active', 'reuseaddr'])).toEqual({ ttl: 33, active: false, reuseaddr: true });
    expect(T.getopts(socket, [])).toEqual({});
  });

  describe('multicast membership', () => {
    test('IPv4 any-source and source-specific join and leave; a joined group delivers', async () => {
      const receiver = open(0, { ip: 'any' });
      const port = (T.sockname(receiver) as { port: number }).port;
      T.setopts(receiver, { add_membership: ['239.7.7.7', '127.0.0.1'] });
      const sender = open(0, { ip: '127.0.0.1', multicast_if: '127.0.0.1' });
      await T.send(sender, '239.7.7.7', port, 'group');
      expect(String((await T.recv(receiver, 0, 2000)).data)).toBe('group');
      T.setopts(receiver, { drop_membership: ['239.7.7.7', '127.0.0.1'] });
      expect(() => T.setopts(receiver, { drop_membership: ['239.7.7.7', '127.0.0.1'] })).toThrow(expect.objectContaining({ reason: 'eaddrnotavail', syscall: 'setsockopt' }));
      T.setopts(receiver, { add_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
      await T.send(sender, '232.1.1.1', port, 'from the source');
      expect(String((await T.recv(receiver, 0, 2000)).data)).toBe('from the source');
      T.setopts(receiver, { drop_source_membership: ['232.1.1.1', '127.0.0.1', '127.0.0.1'] });
    });

    test('IPv6 any-source and source-specific join and leave', () => {
      const receiver = open(0, { ip: '::', family: 'inet6' });
      T.setopts(receiver, { add_membership: ['ff12::77', 1] });
      T.setopts(receiver, { drop_membership: ['ff12::77', 1] });
      T.setopts(receiver, { add_source_membership: ['ff32::8000:1', 1, '::1'] });
      T.setopts(receiver, { drop_source_membership: ['ff32::8000:1', 1, '::1'] });
      expect(() => T.setopts(receiver, { add_membership: ['ff12::77', 'nosuchif0'] })).toThrow(expect.objectContaining({ reason: 'badarg' }));
    });

    test('a kernel refusal in setopts undoes what the same call already did, a membership joined included', () => {
      const socket = open(0, { ip: 'any' });
      expect(() => T.setopts(socket, { multicast_ttl: 4, add_membership: ['239.8.8.8', '127.0.0.1'], recbuf: 100000, drop_membership: ['239.9.9.9', '127.0.0.1'] }))
        .toThrow(expect.objectContaining({ reason: 'eaddrnotavail', message: expect.stringContaining('drop_membership') }));
      expect(T.getopts(socket, ['multicast_ttl', 'recbuf'])).toEqual({ multicast_ttl: 1, recbuf: 212992 });
      // The membership was dropped again: dropping it now is refused.
      expect(() => T.setopts(socket, { drop_membership: ['239.8.8.8', '127.0.0.1'] })).toThrow(expect.objectContaining({ reason: 'eaddrnotavail' }));
    });
  });

  testNative(subject, 'raw options: set and get with lengths checked', () => {
    const socket = open(0, { ip: '127.0.0.1' });
    const SOL_SOCKET = 1;
    const SO_PRIORITY = 12;
    const value = Buffer.alloc(4);
    value.writeInt32LE(3);
    T.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value } });
    expect(T.getopts(socket, ['priority'])).toEqual({ priority: 3 });
    expect(T.getopts(socket, [{ raw: { level: SOL_SOCKET, option: SO_PRIORITY, length: 4 } }]))
      .toEqual({ raw: { level: SOL_SOCKET, option: SO_PRIORITY, value } });
    expect(() => T.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value: Buffer.alloc(2) } }))
      .toThrow(expect.objectContaining({ reason: 'einval', syscall: 'setsockopt' }));
    expect(() => T.getopts(socket, [{ raw: { level: SOL_SOCKET, option: SO_PRIORITY, length: 5000 } }]))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => T.setopts(socket, { raw: { level: SOL_SOCKET, option: SO_PRIORITY, value: 'x' } as never }))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
    expect(() => T.setopts(socket, { raw: { level: -1, option: SO_PRIORITY, value } }))
      .toThrow(expect.objectContaining({ reason: 'badarg' }));
  }, () => {
    const socket = open(0, { ip: '127.0.0.1' });
    expectThrows(() => T.setopts(socket, { raw: { level: 1, option: 12, value: Buffer.alloc(4) } }), 'enotsup');
    expectThrows(() => T.getopts(socket, [{ raw: { level: 1, option: 12, length: 4 } }]), 'enotsup');
  });
});

describe('UDP: options node:dgram cannot reach', () => {
  test('a kernel refusal in setopts undoes what the same call already did', () => {
    const socket = openSocket(0, { ip: 'any', tos: 0 });
    expect(() => UDP.setopts(socket, { tos: 0x10, add_membership: ['239.8.8.8', '127.0.0.1'], recbuf: 100000, bind_to_device: 'no-such-device' }))
      .toThrow(expect.objectContaining({ reason: 'enodev', message: expect.stringContaining('bind_to_device') }));
    expect(UDP.getopts(socket, ['tos', 'recbuf'])).toEqual({ tos: 0, recbuf: 212992 });
    // The membership was dropped again: dropping it now is refused.
    expect(() => UDP.setopts(socket, { drop_membership: ['239.8.8.8', '127.0.0.1'] })).toThrow(expect.objectContaining({ reason: 'eaddrnotavail' }));
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
