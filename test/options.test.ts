import fs from 'node:fs';
import { UDP, type Socket, type SocketOptions } from '../lib';
import { Peer, type PeerSocket, stopPeers } from './helpers/peer';
import { closeAll, expectRejects, expectThrows, listen as listenUDP, portOf, track } from './helpers/sockets';
import { UNSHARED_IP, eachTransport, testNative } from './helpers/transports';

let peer: Peer;
let receiver: PeerSocket;
beforeAll(async () => {
  peer = await Peer.start();
  receiver = await peer.bind('inet', '127.0.0.1');
});
afterAll(() => stopPeers());
afterEach(async () => {
  closeAll();
  await receiver.drain();
});

/*
 * Options only the addon has (tos, priority, dontroute, recvtos, bind_to_device, raw, …) are
 * refused with enotsup by DgramUDP: test/option-table.test.ts asserts that of every one. The
 * cases here that need them run on UDP only; each mechanism (all or nothing, badarg, closed)
 * also has cases of options both transports have.
 */

eachTransport((subject) => {
  const { T, listen, native } = subject;
  const socket4 = (): Socket => listen(0, { ip: '127.0.0.1' });
  /** A socket with the default reuse flags (see UNSHARED_IP). */
  const defaults = (): Socket => track(T.listen(0, { ip: UNSHARED_IP }));

  /** The TTL the peer sees on a datagram from `socket`. */
  async function ttlSeen(socket: Socket): Promise<number | undefined> {
    await T.send(socket, '127.0.0.1', receiver.port, 'ttl probe');
    return (await receiver.recv(3000)).ttl;
  }

  describe('getopts', () => {
    test("returns exactly the names asked for: ['reuseaddr', 'recbuf']", () => {
      const socket = defaults();
      const got = T.getopts(socket, ['reuseaddr', 'recbuf']);
      expect(Object.keys(got).sort()).toEqual(['recbuf', 'reuseaddr']);
      expect(got.reuseaddr).toBe(true);
      expect(Number.isInteger(got.recbuf)).toBe(true);
      expect(got.recbuf).toBe(T.getstat(socket).kernel.rcvbuf);
    });

    test('an empty list gives an empty object', () => {
      expect(T.getopts(socket4(), [])).toEqual({});
    });

    test('defaults: flags are booleans (false ones included), sizes are numbers', () => {
      const expected = {
        broadcast: false, ttl: 64, reuseport: subject.reuseport, mode: 'binary', multicast_loop: true, multicast_ttl: 1,
        multicast_if: '0.0.0.0', buffer: 65536, active: false,
        ...(native ? { recvtos: false, recvttl: false, dontroute: false, tos: 0 } : {}),
      };
      expect(T.getopts(defaults(), Object.keys(expected) as (keyof SocketOptions)[])).toEqual(expected);
    });

    test('a name asked twice is answered once, with its value', () => {
      const got = T.getopts(socket4(), ['ttl', 'ttl']);
      expect(got).toEqual({ ttl: 64 });
    });

    testNative(subject, 'raw reads a kernel option as bytes: { level, option, value }', () => {
      const socket = socket4();
      T.setopts(socket, { priority: 3 });
      const got = T.getopts(socket, [{ raw: { level: 1 /* SOL_SOCKET */, option: 12 /* SO_PRIORITY */, length: 4 } }]);
      expect(Object.keys(got)).toEqual(['raw']);
      const raw = got.raw as { level: number; option: number; value: Uint8Array };
      expect({ level: raw.level, option: raw.option }).toEqual({ level: 1, option: 12 });
      expect(Buffer.from(raw.value).readInt32LE(0)).toBe(3);
    }, () => {
      expectThrows(() => T.getopts(socket4(), [{ raw: { level: 1, option: 12, length: 4 } }]), 'enotsup');
    });
  });

  describe('setopts', () => {
    test('applies every option given and returns nothing', () => {
      const socket = socket4();
      const options = { ttl: 20, broadcast: true, multicast_ttl: 3, ...(native ? { tos: 0x10, dontroute: true } : {}) };
      expect(T.setopts(socket, options)).toBeUndefined();
      expect(T.getopts(socket, Object.keys(options) as (keyof SocketOptions)[])).toEqual(options);
    });

    test('the kernel applies them: the peer sees the new TTL (and TOS)', async () => {
      const socket = socket4();
      T.setopts(socket, { ttl: 33, ...(native ? { tos: 0x60 } : {}) });
      await T.send(socket, '127.0.0.1', receiver.port, 'opt');
      const got = await receiver.recv(3000);
      expect({ ttl: got.ttl, tos: got.tos, data: got.data.toString() }).toEqual({ ttl: 33, tos: native ? 0x60 : 0, data: 'opt' });
    });

    test("broadcast: off, a send to lo's broadcast address fails 'eacces'; on, it reaches a peer bound to any", async () => {
      const socket = socket4();
      const listener = await peer.bind('inet', '0.0.0.0');
      try {
        const error = await expectRejects(() => T.send(socket, '127.255.255.255', listener.port, 'no'), 'eacces');
        expect(error.syscall).toEqual(expect.stringMatching(/^send/));
        T.setopts(socket, { broadcast: true });
        await T.send(socket, '127.255.255.255', listener.port, 'to all');
        const got = await listener.recv(3000);
        expect({ data: got.data.toString(), address: got.address, port: got.port })
          .toEqual({ data: 'to all', address: '127.0.0.1', port: portOf(socket) });
      } finally {
        await listener.close();
      }
    });

    test('recbuf and sndbuf read back doubled, as the kernel reports them', () => {
      const socket = socket4();
      T.setopts(socket, { recbuf: 65536, sndbuf: 40000 });
      expect(T.getopts(socket, ['recbuf', 'sndbuf'])).toEqual({ recbuf: 131072, sndbuf: 80000 });
      expect(T.getstat(socket).kernel).toMatchObject({ rcvbuf: 131072, sndbuf: 80000 });
    });

    testNative(subject, 'flags turn off again', () => {
      const socket = defaults();
      T.setopts(socket, { reuseaddr: false, broadcast: true });
      T.setopts(socket, { broadcast: false });
      expect(T.getopts(socket, ['reuseaddr', 'broadcast'])).toEqual({ reuseaddr: false, broadcast: false });
    }, () => {
      // node:dgram sets SO_REUSEADDR when it makes the socket only; broadcast turns off again.
      const socket = defaults();
      T.setopts(socket, { broadcast: true });
      T.setopts(socket, { broadcast: false });
      expectThrows(() => T.setopts(socket, { reuseaddr: false }), 'enotsup', { message: /reuseaddr/ });
      expect(T.getopts(socket, ['reuseaddr', 'broadcast'])).toEqual({ reuseaddr: true, broadcast: false });
    });

    testNative(subject, 'raw sets a kernel option from bytes', () => {
      const socket = socket4();
      const value = Buffer.alloc(4);
      value.writeInt32LE(5);
      T.setopts(socket, { raw: { level: 1 /* SOL_SOCKET */, option: 12 /* SO_PRIORITY */, value } });
      expect(T.getopts(socket, ['priority'])).toEqual({ priority: 5 });
    }, () => {
      expectThrows(() => T.setopts(socket4(), { raw: { level: 1, option: 12, value: Buffer.alloc(4) } }), 'enotsup');
    });

    test('an empty object changes nothing', () => {
      const socket = defaults();
      T.setopts(socket, {});
      expect(T.getopts(socket, ['ttl', 'reuseaddr'])).toEqual({ ttl: 64, reuseaddr: true });
    });
  });

  describe('setopts is all or nothing', () => {
    const before = ['ttl', 'broadcast', 'recbuf', 'buffer', 'multicast_ttl', ...(native ? ['tos', 'priority', 'recvtos'] : [])] as (keyof SocketOptions)[];
    type Case = [string, SocketOptions & Record<string, unknown>, string];

    const shared: Case[] = [
      ['a bad value after good ones', { ttl: 77, broadcast: true, multicast_ttl: 5, recbuf: -5 }, 'badarg'],
      ['an unknown option after good ones', { ttl: 77, broadcast: true, no_such_option: 1 }, 'badarg'],
      ['an unknown option before good ones', { no_such_option: 1, ttl: 77 }, 'badarg'],
      ['a wrong type after good ones', { multicast_ttl: 6, ttl: 77, broadcast: 'yes' as unknown as boolean }, 'badarg'],
      ["mode 'list' after good ones", { ttl: 77, recbuf: 65536, mode: 'list' as 'binary' }, 'badarg'],
      ['a refused option after good ones', { ttl: 77, header: 2 }, 'badarg'],
      ['a kernel refusal (leaving a group never joined) after good ones', { buffer: 1000, ttl: 77, broadcast: true, recbuf: 65536, drop_membership: ['239.8.8.9', '127.0.0.1'] }, 'eaddrnotavail'],
    ];
    const nativeOnly: Case[] = [
      ['a bad value after good ones (tos)', { ttl: 77, tos: 0x20, broadcast: true, recbuf: -5 }, 'badarg'],
      ['a wrong type after good ones (priority)', { priority: 6, ttl: 77, broadcast: 'yes' as unknown as boolean }, 'badarg'],
      ['an option the kernel refuses (no such device) after good ones', { ttl: 77, tos: 0x20, priority: 6, bind_to_device: 'nosuchdev0' }, 'enodev'],
      ['a kernel refusal after a facade option (buffer) and an ancillary one (recvtos)', { buffer: 1000, recvtos: true, ttl: 77, bind_to_device: 'nosuchdev0' }, 'enodev'],
      ['a raw option the kernel does not know, after good ones', { ttl: 77, recbuf: 65536, raw: { level: 1, option: 9999, value: Buffer.alloc(4) } }, 'enoprotoopt'],
    ];

    test.each(native ? [...shared, ...nativeOnly] : shared)('%s: throws and changes nothing', async (_what, options, reason) => {
      const socket = socket4();
      const original = T.getopts(socket, before);
      expect(original).toMatchObject({ ttl: 64, broadcast: false });
      expectThrows(() => T.setopts(socket, options), reason);
      expect(T.getopts(socket, before)).toEqual(original);
      expect(await ttlSeen(socket)).toBe(64);
      // No receive-side ancillary option came on: a datagram arrives without `ancillary`.
      await receiver.send('127.0.0.1', portOf(socket), 'back');
      expect(await T.recv(socket, 0, 3000)).toStrictEqual({ address: '127.0.0.1', port: receiver.port, data: Buffer.from('back') });
    });

    test('a kernel refusal reports the setsockopt system call', () => {
      const socket = socket4();
      const [refused, reason, name] = native
        ? [{ bind_to_device: 'nosuchdev0' }, 'enodev', /bind_to_device/]
        : [{ drop_membership: ['239.8.8.9', '127.0.0.1'] as [string, string] }, 'eaddrnotavail', /drop_membership/];
      const error = expectThrows(() => T.setopts(socket, { ttl: 9, ...refused }), reason);
      expect(error.syscall).toBe('setsockopt');
      expect(error.message).toMatch(/setopts/);
      expect(error.message).toMatch(name);
    });
  });

  describe('values are read once, before any system call', () => {
    test('an interface or group address with a NUL byte inside is badarg, as every address is', () => {
      const socket = socket4();
      expectThrows(() => T.setopts(socket, { multicast_if: '127.0.0.1\0junk' }), 'badarg');
      expectThrows(() => T.setopts(socket, { add_membership: ['224.0.0.9\0junk', '0.0.0.0'] }), 'badarg');
      expectThrows(() => T.setopts(socket, { add_membership: ['224.0.0.9', '0.0.0.0\0junk'] }), 'badarg');
      expectThrows(() => T.setopts(socket, { add_source_membership: ['232.1.1.1', '0.0.0.0', '10.0.0.1\0junk'] }), 'badarg');
    });
  });

  describe('bad options are badarg, and the message names the operation, the option and the value', () => {
    type Case = [string, Record<string, unknown>, RegExp[]];
    const shared: Case[] = [
      ['negative size', { recbuf: -5 }, [/setopts/, /recbuf/, /-5/]],
      ['fractional size', { sndbuf: 1.5 }, [/sndbuf/, /1\.5/]],
      ['NaN size', { recbuf: NaN }, [/recbuf/, /NaN|null/]],
      ['string size', { recbuf: '1024' }, [/recbuf/, /1024/]],
      ['number for a flag', { reuseaddr: 1 }, [/reuseaddr/, /1/]],
      ['null for a flag', { broadcast: null }, [/broadcast/, /null/]],
      ['ttl above 255', { ttl: 256 }, [/ttl/, /256/]],
      ['negative ttl', { ttl: -1 }, [/ttl/, /-1/]],
      ['string ttl', { ttl: 'high' }, [/ttl/, /high/]],
      ['unknown name', { no_such_option: true }, [/setopts/, /no_such_option/]],
      ['membership as a bare string', { add_membership: '239.1.2.3' }, [/add_membership/, /239\.1\.2\.3/]],
      ['membership with a bad group', { add_membership: ['nope', '127.0.0.1'] }, [/add_membership/, /nope/]],
      ['an IPv4 interface that is no address', { multicast_if: 'eth0' }, [/multicast_if/, /eth0/]],
      ['a listen option', { ip: '127.0.0.1' }, [/setopts/, /'ip'/]],
    ];
    // DgramUDP refuses these options whatever their value.
    const nativeOnly: Case[] = [
      ['tos above 255', { tos: 300 }, [/tos/, /300/]],
      ['number for a device name', { bind_to_device: 5 }, [/bind_to_device/, /5/]],
      ['mtu_discover unknown value', { mtu_discover: 'sometimes' }, [/mtu_discover/, /sometimes/]],
    ];

    test.each(native ? [...shared, ...nativeOnly] : shared)('%s', (_what, options, messages) => {
      const error = expectThrows(() => T.setopts(socket4(), options as SocketOptions), 'badarg');
      for (const pattern of messages) expect(error.message).toMatch(pattern);
    });

    /*
     * Every kind of value, in setopts and in listen: the message says what the option takes,
     * so that a newcomer need not look it up (issue 19.3).
     */
    const sharedShapes: [Record<string, unknown>, RegExp][] = [
      [{ broadcast: 1 }, /a boolean/],
      [{ ttl: 300 }, /an integer from 1 to 255/],
      [{ recbuf: '1k' }, /an integer from 1 to \d+/],
      [{ multicast_ttl: 'x' }, /an integer from 0 to 255/],
      [{ multicast_if: 5 }, /an IPv4 interface address/],
      [{ add_membership: '239.1.2.3' }, /\[group, interface/],
      [{ add_source_membership: ['232.1.1.1'] }, /\[group, interface.*, source\]/],
      [{ active: 'twice' }, /true, false, 'once' or an integer from -32768 to 32767/],
      [{ buffer: 0 }, /a positive integer/],
    ];
    const nativeShapes: [Record<string, unknown>, RegExp][] = [
      [{ timestamp: 5 }, /a boolean/],
      [{ tos: 256 }, /an integer from 0 to 255/],
      [{ bind_to_device: 5 }, /an interface name of at most 15 bytes/],
      [{ mtu_discover: 'sometimes' }, /'dont', 'want', 'do', 'probe', 'interface', 'omit'/],
      [{ read_packets: 0 }, /an integer from 1 to \d+/],
      [{ coalesce: { usecs: 0 } }, /false or \{ usecs: 1 to 1000000, packets\?: 1 to 65536 \}/],
      [{ raw: 5 }, /\{ level, option, value: Uint8Array \}/],
    ];
    test.each(native ? [...sharedShapes, ...nativeShapes] : sharedShapes)('%p: the message names the value and what the option expects', (options, expected) => {
      const [name] = Object.keys(options);
      const value = JSON.stringify(options[name]).replace(/[[\]{}()*+?.\\^$|]/g, '\\$&').replace(/"/g, "['\"]");
      const shape = new RegExp(`bad value for option '${name}': ${value}, expected `);
      const bySetopts = expectThrows(() => T.setopts(socket4(), options as SocketOptions), 'badarg');
      expect(bySetopts.message).toMatch(/^setopts: /);
      const byListen = expectThrows(() => listen(0, { ip: '127.0.0.1', ...options } as never), 'badarg');
      expect(byListen.message).toMatch(/^listen: /);
      for (const error of [bySetopts, byListen]) {
        expect(error.message).toMatch(shape);
        expect(error.message).toMatch(expected);
      }
    });

    test.each<[string, Record<string, unknown>]>([
      ["mode 'list'", { mode: 'list' }],
      ['header', { header: 2 }],
      ['packet', { packet: 1 }],
      ['deliver', { deliver: 'term' }],
    ])('%s is refused by setopts and by listen', (_what, options) => {
      const name = Object.keys(options)[0];
      const error = expectThrows(() => T.setopts(socket4(), options as SocketOptions), 'badarg');
      expect(error.message).toMatch(new RegExp(name));
      const atListen = expectThrows(() => {
        const socket = T.listen(0, { ip: '127.0.0.1', ...options } as never);
        T.close(socket);
      }, 'badarg');
      expect(atListen.message).toMatch(new RegExp(name));
    });

    test.each([[null], [5], ['ttl'], [undefined]])('setopts with %p instead of an object is badarg', (options) => {
      expectThrows(() => T.setopts(socket4(), options as never), 'badarg');
    });

    test.each<[string, unknown]>([
      ['an unknown name', ['no_such_option']],
      ['a number as a name', [5]],
      ['a refused name', ['header']],
      ['a string instead of a list', 'ttl'],
      ['null', null],
      ...(native ? [['a raw query with a negative length', [{ raw: { level: 1, option: 12, length: -1 } }]] as [string, unknown]] : []),
    ])('getopts with %s is badarg', (_what, names) => {
      const error = expectThrows(() => T.getopts(socket4(), names as never), 'badarg');
      expect(error.message).toMatch(/getopts/);
    });
  });

  describe('options of a closed socket', () => {
    test("getopts and setopts throw 'closed'", () => {
      const socket = socket4();
      T.close(socket);
      expectThrows(() => T.getopts(socket, ['ttl']), 'closed');
      expectThrows(() => T.setopts(socket, { ttl: 3 }), 'closed');
      expectThrows(() => T.setopts(socket, {}), 'closed');
    });
  });
});

// Options node:dgram cannot reach (SO_RCVBUFFORCE, raw), used to see what the addon does underneath.
describe('UDP: what setopts does underneath', () => {
  const socket4 = (): Socket => listenUDP(0, { ip: '127.0.0.1' });

  test('a receive buffer forced past rmem_max (rcvbufforce) is put back as it was, not clamped by SO_RCVBUF', () => {
    const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const socket = listenUDP(0, { ip: '127.0.0.1', rcvbufforce: 4 * rmemMax });
    const forced = UDP.getopts(socket, ['recbuf']).recbuf!;
    expect(forced).toBe(8 * rmemMax);
    expectThrows(() => UDP.setopts(socket, { recbuf: 4096, bind_to_device: 'nosuchdev0' }), 'enodev');
    expect(UDP.getopts(socket, ['recbuf'])).toEqual({ recbuf: forced });
  });

  test('a raw option value whose getter changes its type after the first read: set from that read', () => {
    const socket = socket4();
    let reads = 0;
    const priority = Buffer.alloc(4);
    priority.writeInt32LE(6);
    const raw = { level: 1, option: 12, get value(): unknown { return reads++ === 0 ? priority : 5; } };
    UDP.setopts(socket, { raw: raw as never });
    expect(reads).toBe(1);
    expect(UDP.getopts(socket, ['priority'])).toEqual({ priority: 6 });
  });

  test("a getter that closes the socket during setopts: 'closed', and the descriptor that took its number keeps its options", () => {
    const socket = socket4();
    let newcomer: Socket | undefined;
    const priority = Buffer.alloc(4);
    priority.writeInt32LE(5);
    const raw = {
      level: 1, // SOL_SOCKET
      option: 12, // SO_PRIORITY
      get value(): Buffer {
        if (newcomer === undefined) {
          UDP.close(socket);
          // Mostly given the descriptor number just freed.
          newcomer = listenUDP(0, { ip: '127.0.0.1' });
        }
        return priority;
      },
    };
    expectThrows(() => UDP.setopts(socket, { raw }), 'closed');
    expect(UDP.getopts(newcomer!, ['priority'])).toEqual({ priority: 0 });
  });
});
