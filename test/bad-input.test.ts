/**
 * The bad-input matrix: every exported function of `UDP` called with wrong types, bad numbers,
 * over-long strings, unknown keys, closed sockets and another thread's sockets. Each case names
 * the reason the contract (README, Errors and the Abyss appendix) wants; every case must end in a TransportError
 * with that reason, thrown by a synchronous call or as the rejection of the promise an
 * asynchronous one returns (never a synchronous throw), without crashing or hanging.
 *
 * A case is a JS expression (`code`) over fixtures it names (see test/scripts/bad-input-runner.js:
 * `sock`, `sock6`, `usock`, `csock`, `activeSock`, `closedSock`, `foreignSock`, `handedRef`,
 * `deadWorker`, `fileFd`, `tmp`, and in the worker `mainRef`, `closedRef`, `givenRef`). They run in
 * a child process, one after the other with fresh fixtures, so that a case that kills the process
 * (a native crash) or never returns (a loop) is reported as such and the rest still run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { UDP } from '../lib';

type Fn =
  | 'listen' | 'open' | 'connect' | 'controllingProcess' | 'adopt' | 'recv' | 'recvBatch' | 'recvInto'
  | 'send/2' | 'send/3' | 'send/4' | 'send/5' | 'sendBatch' | 'getopts' | 'setopts' | 'close'
  | 'sockname' | 'peername' | 'getstat' | 'negotiatedProtocol' | 'recvErrorQueue' | 'splitSegments';

interface Case {
  fn: Fn;
  /** What is wrong, as the test name shows it. */
  what: string;
  /** A JS expression calling the function. */
  code: string;
  /** The reason the contract wants. */
  expected: string;
  /** Run in the worker thread (fixtures mainRef, closedRef, givenRef) instead of the main one. */
  where?: 'worker';
}

const ASYNC: ReadonlySet<Fn> = new Set<Fn>(['recv', 'recvBatch', 'recvInto', 'send/2', 'send/3', 'send/4', 'send/5', 'sendBatch']);

/** [label, JS source] */
type V = readonly [string, string];

// ---------------------------------------------------------------------------------------------
// Value pools
// ---------------------------------------------------------------------------------------------

const WRONG_TYPES: V[] = [
  ['undefined', 'undefined'], ['null', 'null'], ['an object', '{}'], ['an array', '[]'], ['a function', '() => 0'],
  ['a symbol', "Symbol('s')"], ['a bigint', '1n'], ['true', 'true'], ['false', 'false'],
];
const without = (pool: V[], ...labels: string[]): V[] => pool.filter(([label]) => !labels.includes(label));
const NUMERIC_STRINGS: V[] = [["the string '1'", "'1'"], ['an empty string', "''"], ["the string 'Infinity'", "'Infinity'"]];
const BAD_NUMBERS: V[] = [
  ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['-Infinity', '-Infinity'], ['-1', '-1'], ['1.5', '1.5'], ['-0.5', '-0.5'],
  ['2**31', '2**31'], ['2**53', '2**53'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'], ['-(2**53)', '-(2**53)'],
];
const NOT_A_NUMBER: V[] = [...WRONG_TYPES, ...NUMERIC_STRINGS];
const BAD_PORTS: V[] = [...NOT_A_NUMBER, ...BAD_NUMBERS, ['65536', '65536']];
const NOT_A_SOCKET: V[] = [
  ...WRONG_TYPES, ['a number', '3'], ['a string', "'socket'"], ['a lookalike object', '({ fd: 3, closed: false, native: {} })'],
  ['a forged Socket (its prototype, no native socket)', 'Object.create(Socket.prototype)'],
];
/** Strings that are neither an IP literal nor a host name. */
const BAD_IPS: V[] = [
  ['an empty string', "''"], ['a 10 000-char string', "long(10000, '1')"],
  ["'127.0.0.1:80'", "'127.0.0.1:80'"], ["' 127.0.0.1'", "' 127.0.0.1'"], ["'127.0.0.1\\0'", "'127.0.0.1\\0'"],
];
/** Host names no resolver knows: badarg where a call takes IP literals, nxdomain where send resolves them. */
const UNKNOWN_NAMES: V[] = [["'nope'", "'nope'"], ["'999.1.1.1'", "'999.1.1.1'"]];
/** IPv6 literals, on an IPv4 socket: eafnosupport, as inet says. */
const IPV6_ON_IPV4: V[] = [["'::1' on an IPv4 socket", "'::1'"], ["'::1%' + 20-char scope on an IPv4 socket", "'::1%' + long(20)"]];
/** Data that is not iodata. */
const BAD_DATA: V[] = [
  ...without(WRONG_TYPES, 'an array'), ['a number', '5'], ['an array holding a number', '[5]'],
  ['nested arrays holding an object', "['ok', [{}]]"], ['an array holding null', '[null]'], ['an array holding a symbol', "[Symbol('s')]"],
  ['a Uint16Array', 'new Uint16Array(2)'], ['an ArrayBuffer', 'new ArrayBuffer(4)'], ['a DataView', 'new DataView(new ArrayBuffer(4))'],
  ['a cyclic array', 'cyclic()'],
];
/** A path of exactly 108 bytes in the case's temp dir: no room left for sun_path's NUL. */
const PATH_108 = 'tmp + "/" + long(108 - tmp.length - 1)';

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const CASES: Case[] = [];
function add(fn: Fn, what: string, code: string, expected = 'badarg', where?: 'worker'): void {
  CASES.push({ fn, what, code, expected, ...(where ? { where } : {}) });
}

/** Every function that takes a socket, called on `target` with otherwise good arguments. */
const SOCKET_CALLS: [Fn, (s: string) => string][] = [
  ['connect', (s) => `UDP.connect(${s}, '127.0.0.1', 9)`],
  ['controllingProcess', (s) => `UDP.controllingProcess(${s}, 987654)`],
  ['recv', (s) => `UDP.recv(${s}, 0, 50)`],
  ['recvBatch', (s) => `UDP.recvBatch(${s}, 4, 50)`],
  ['recvInto', (s) => `UDP.recvInto(${s}, new RecvArena({ slots: 2 }), 50)`],
  ['send/2', (s) => `UDP.send(${s}, 'x')`],
  ['send/3', (s) => `UDP.send(${s}, { address: '127.0.0.1', port: 9 }, 'x')`],
  ['send/4', (s) => `UDP.send(${s}, '127.0.0.1', 9, 'x')`],
  ['send/5', (s) => `UDP.send(${s}, '127.0.0.1', 9, { ttl: 9 }, 'x')`],
  ['sendBatch', (s) => `UDP.sendBatch(${s}, [{ address: '127.0.0.1', port: 9, data: 'x' }])`],
  ['getopts', (s) => `UDP.getopts(${s}, ['ttl'])`],
  ['setopts', (s) => `UDP.setopts(${s}, { ttl: 9 })`],
  ['close', (s) => `UDP.close(${s})`],
  ['sockname', (s) => `UDP.sockname(${s})`],
  ['peername', (s) => `UDP.peername(${s})`],
  ['getstat', (s) => `UDP.getstat(${s})`],
  ['negotiatedProtocol', (s) => `UDP.negotiatedProtocol(${s})`],
  ['recvErrorQueue', (s) => `UDP.recvErrorQueue(${s})`],
];

// Not a socket: badarg everywhere.
for (const [fn, call] of SOCKET_CALLS) {
  for (const [label, value] of NOT_A_SOCKET) add(fn, `socket is ${label}`, call(value));
}

// A closed socket: 'closed' everywhere but close itself (idempotent).
for (const [fn, call] of SOCKET_CALLS) {
  if (fn !== 'close') add(fn, 'a closed socket', call('closedSock'), 'closed');
}
add('adopt', 'the ref of a closed socket', 'UDP.adopt(closedSock.handoff)', 'closed');
add('adopt', 'the ref of a closed socket, in a worker', 'UDP.adopt(closedRef)', 'closed', 'worker');

// Another thread's socket (handed to the worker, adopted there): the owner's calls are not_owner.
// Reading (getopts, sockname, getstat) stays open to every thread, as the contract's Ownership says.
for (const fn of ['connect', 'controllingProcess', 'recv', 'recvBatch', 'recvInto', 'send/2', 'send/3', 'send/4', 'send/5', 'sendBatch', 'setopts', 'close', 'recvErrorQueue'] as Fn[]) {
  add(fn, "another thread's socket", SOCKET_CALLS.find(([name]) => name === fn)![1]('foreignSock'), 'not_owner');
}
add('controllingProcess', "another thread's socket, handed back to a dead worker", 'UDP.controllingProcess(foreignSock, deadWorker)', 'not_owner');
add('negotiatedProtocol', "another thread's socket (no protocol either way)", 'UDP.negotiatedProtocol(foreignSock)', 'protocol_not_negotiated');
add('adopt', 'the ref of a socket handed to (and adopted by) another thread', 'UDP.adopt(foreignSock.handoff)', 'not_owner');
add('adopt', 'in a worker, the ref of a main-thread socket never handed to it', 'UDP.adopt(mainRef)', 'not_owner', 'worker');
add('adopt', 'in a worker, a handed ref adopted twice', '(UDP.adopt(givenRef), UDP.adopt(givenRef))', 'badarg', 'worker');
add('adopt', 'in a worker, not a ref', "UDP.adopt({ abyssSocket: 'x', carry: [] })", 'badarg', 'worker');

// ---- listen / open ----------------------------------------------------------------------------
for (const fn of ['listen', 'open'] as const) {
  const call = (port: string, options = "{ ip: 'loopback' }") => `UDP.${fn}(${port}, ${options})`;
  for (const [label, value] of BAD_PORTS) add(fn, `port is ${label}`, call(value));
  for (const [label, value] of [
    ...without(WRONG_TYPES, 'undefined', 'an object'), ['a string', "'loopback'"], ['a number', '5'],
    ['a Map of options', "new Map([['ttl', 5]])"], ['a Buffer', 'Buffer.from("{}")'],
  ] as V[]) add(fn, `options are ${label}`, call('0', value));

  // ip
  for (const [label, value] of [...without(WRONG_TYPES, 'undefined'), ['a number', '5']] as V[]) {
    add(fn, `ip is ${label}`, call('0', `{ ip: ${value} }`));
  }
  for (const [label, value] of [...BAD_IPS, ...UNKNOWN_NAMES, ["'LOOPBACK'", "'LOOPBACK'"], ["'fe80::1%nosuchif0'", "'fe80::1%nosuchif0'"], ["'::1%' + 20-char scope", "'::1%' + long(20)"]] as V[]) {
    add(fn, `ip is ${label}`, call('0', `{ ip: ${value} }`));
  }
  add(fn, "ip '192.0.2.1', not an address of this host (the kernel decides)", call('0', "{ ip: '192.0.2.1' }"), 'eaddrnotavail');
  for (const [label, value] of [['a number', '5'], ['null', 'null'], ['an array', '[]'], ['a symbol', "Symbol('s')"]] as V[]) {
    add(fn, `ip { local } is ${label}`, call('0', `{ ip: { local: ${value} } }`));
  }
  add(fn, 'a unix path of 108 bytes (past sun_path)', call('0', `{ ip: { local: ${PATH_108} } }`), 'enametoolong');
  add(fn, 'a unix path of 10 000 bytes', call('0', '{ ip: { local: tmp + "/" + long(10000) } }'), 'enametoolong');
  add(fn, 'an abstract unix name of 109 bytes', call('0', '{ ip: { local: "\\0" + long(108) } }'), 'enametoolong');
  add(fn, 'a unix path with a NUL byte inside', call('0', '{ ip: { local: tmp + "/a\\0b" } }'));
  add(fn, 'a unix path in a missing directory (the kernel decides)', call('0', '{ ip: { local: tmp + "/nodir/x" } }'), 'enoent');
  add(fn, 'a unix path with a port', call('5000', '{ ip: { local: tmp + "/x" } }'));
  add(fn, "a unix path with family 'inet'", call('0', "{ ip: { local: tmp + '/x' }, family: 'inet' }"));

  // family
  for (const [label, value] of [
    ...without(WRONG_TYPES, 'undefined'), ["'inet7'", "'inet7'"], ["'INET'", "'INET'"], ['an empty string', "''"], ["'ipv4'", "'ipv4'"],
  ] as V[]) add(fn, `family is ${label}`, call('0', `{ family: ${value} }`));
  add(fn, "family 'local' with an IP", call('0', "{ family: 'local', ip: '127.0.0.1' }"));
  add(fn, "family 'inet' with an IPv6 ip", call('0', "{ family: 'inet', ip: '::1' }"));

  // fd
  for (const [label, value] of [
    ...without(WRONG_TYPES, 'undefined'), ["the string '3'", "'3'"], ['-1', '-1'], ['1.5', '1.5'], ['NaN', 'NaN'], ['Infinity', 'Infinity'],
    ['2**31 (past int)', '2**31'], ['2**32 (wraps to 0 as an int32)', '2**32'], ['2**53', '2**53'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'],
  ] as V[]) add(fn, `fd is ${label}`, call('0', `{ fd: ${value} }`));
  add(fn, 'fd 99999, not open (the kernel decides)', call('0', '{ fd: 99999 }'), 'ebadf');
  add(fn, 'fd of a regular file (the kernel decides)', call('0', '{ fd: fileFd }'), 'enotsock');

  // netns
  for (const [label, value] of without(WRONG_TYPES, 'undefined')) add(fn, `netns is ${label}`, call('0', `{ netns: ${value} }`));
  add(fn, 'netns an empty path (the kernel decides)', call('0', "{ netns: '' }"), 'enoent');
  add(fn, 'netns a missing file (the kernel decides)', call('0', "{ netns: tmp + '/missing' }"), 'enoent');
  add(fn, 'netns a file that is no namespace (the kernel decides)', call('0', "{ netns: '/etc/hostname' }"), 'einval');
  add(fn, 'netns a 5 000-byte path (the kernel decides)', call('0', "{ netns: '/' + long(5000) }"), 'enametoolong');
  // Cut at the NUL, this would name this process's own namespace.
  add(fn, 'netns a path with a NUL byte inside', call('0', "{ netns: '/proc/self/ns/net\\0' + tmp + '/missing' }"));

  // inet_backend, active
  for (const [label, value] of [["'erlang'", "'erlang'"], ['an empty string', "''"], ['a number', '5'], ['null', 'null'], ['a symbol', "Symbol('s')"]] as V[]) {
    add(fn, `inet_backend is ${label}`, call('0', `{ inet_backend: ${value} }`));
  }
  for (const [label, value] of [
    ["'twice'", "'twice'"], ['an empty string', "''"], ['1.5', '1.5'], ['32768', '32768'], ['-32769', '-32769'], ['2**31', '2**31'],
    ['NaN', 'NaN'], ['null', 'null'], ['an object', '{}'], ['a symbol', "Symbol('s')"],
  ] as V[]) add(fn, `active is ${label}`, call('0', `{ ip: 'loopback', active: ${value} }`));
}

// Unknown and refused option names: listen, open and setopts. Entries of an object literal
// (a computed ['__proto__'] makes an own property, as JSON.parse would).
const UNKNOWN_OPTIONS: V[] = [
  ["'bogus'", 'bogus: 1'], ["'TTL' (case matters)", 'TTL: 5'], ['an empty name', "'': 1"],
  ["'toString' (an Object.prototype name)", 'toString: 1'], ["'constructor'", 'constructor: 1'],
  ["'hasOwnProperty'", 'hasOwnProperty: true'], ["an own '__proto__'", "['__proto__']: 1"],
  ["'recv_tos' (a near miss)", 'recv_tos: true'],
];
const REFUSED_OPTIONS: V[] = [
  ['header', 'header: 2'], ['packet', 'packet: 1'], ['deliver', "deliver: 'term'"], ['packet_size', 'packet_size: 10'],
  ['line_delimiter', 'line_delimiter: 10'], ["mode 'list'", "mode: 'list'"], ["mode 'BINARY'", "mode: 'BINARY'"], ['mode 5', 'mode: 5'],
];
for (const [label, entry] of UNKNOWN_OPTIONS) {
  add('listen', `unknown option ${label}`, `UDP.listen(0, { ip: 'loopback', ${entry} })`);
  add('open', `unknown option ${label}`, `UDP.open(0, { ip: 'loopback', ${entry} })`);
  add('setopts', `unknown option ${label}`, `UDP.setopts(sock, { ${entry} })`);
}
for (const [label, entry] of REFUSED_OPTIONS) {
  add('listen', `refused option ${label}`, `UDP.listen(0, { ip: 'loopback', ${entry} })`);
  add('setopts', `refused option ${label}`, `UDP.setopts(sock, { ${entry} })`);
}

// ---- socket option values: setopts on every option; listen and open on a sample --------------
/** name → [bad values (badarg)], the socket to set it on. */
const BOOL_BAD: V[] = [['1', '1'], ["'true'", "'true'"], ['null', 'null'], ['an object', '{}'], ['a symbol', "Symbol('s')"]];
const OPTION_VALUES: [string, 'sock' | 'sock6', V[]][] = [
  ...['broadcast', 'reuseaddr', 'reuseport', 'reuseport_lb', 'recvtos', 'recvttl', 'dontroute', 'multicast_loop', 'pktinfo',
    'recvorigdstaddr', 'timestamp', 'rxq_ovfl', 'gro', 'recverr', 'freebind', 'transparent'].map((name) => [name, 'sock', BOOL_BAD] as [string, 'sock', V[]]),
  ...['recvtclass', 'ipv6_v6only', 'recvhoplimit'].map((name) => [name, 'sock6', BOOL_BAD] as [string, 'sock6', V[]]),
  ['recbuf', 'sock', [['0', '0'], ['-1', '-1'], ['1.5', '1.5'], ['2**31', '2**31'], ['2**53', '2**53'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ["'1024'", "'1024'"], ['a symbol', "Symbol('s')"], ['a bigint', '1024n']]],
  ['sndbuf', 'sock', [['0', '0'], ['-1', '-1'], ['2**31', '2**31'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'], ['true', 'true']]],
  ['priority', 'sock', [['-1', '-1'], ['2**31', '2**31'], ['1.5', '1.5'], ["'x'", "'x'"]]],
  ['tos', 'sock', [['-1', '-1'], ['256', '256'], ['1.5', '1.5'], ['2**53', '2**53'], ['NaN', 'NaN'], ["'16'", "'16'"], ['null', 'null'], ['a symbol', "Symbol('s')"]]],
  ['ttl', 'sock', [['0', '0'], ['256', '256'], ['-1', '-1'], ['1.5', '1.5'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'], ['true', 'true'], ['a symbol', "Symbol('s')"], ['an array', '[64]']]],
  ['multicast_ttl', 'sock', [['-1', '-1'], ['256', '256'], ['1.5', '1.5']]],
  ['coalesce', 'sock', [['true', 'true'], ['0', '0'], ['{}', '{}'], ['usecs 0', '{ usecs: 0 }'], ['usecs 1.5', '{ usecs: 1.5 }'],
    ['usecs 2**31', '{ usecs: 2**31 }'], ['packets 0', '{ usecs: 10, packets: 0 }'], ['an unknown key', '{ usecs: 10, usec: 5 }'], ['null', 'null']]],
  ['read_packets', 'sock', [['0', '0'], ['65', '65'], ['1.5', '1.5'], ["'8'", "'8'"], ['null', 'null'], ['2**53', '2**53']]],
  ['buffer', 'sock', [['0', '0'], ['-1', '-1'], ['2**31', '2**31'], ['1.5', '1.5'], ["'x'", "'x'"], ['null', 'null']]],
  ['segment', 'sock', [['-1', '-1'], ['65536', '65536'], ['1.5', '1.5'], ["'x'", "'x'"]]],
  ['mark', 'sock', [['-1', '-1'], ['2**32', '2**32'], ['1.5', '1.5'], ["'x'", "'x'"]]],
  ['busy_poll', 'sock', [['-1', '-1'], ['2**31', '2**31']]],
  ['incoming_cpu', 'sock', [['-2', '-2'], ['2**31', '2**31'], ['1.5', '1.5']]],
  ['rcvbufforce', 'sock', [['0', '0'], ['2**31', '2**31']]],
  ['sndbufforce', 'sock', [['0', '0'], ['2**31', '2**31']]],
  ['tclass', 'sock6', [['-2', '-2'], ['256', '256'], ['1.5', '1.5']]],
  ['unicast_hops', 'sock6', [['-2', '-2'], ['256', '256']]],
  ['multicast_hops', 'sock6', [['-2', '-2'], ['256', '256']]],
  ['mtu_discover', 'sock', [["'sometimes'", "'sometimes'"], ['an empty string', "''"], ["'DO'", "'DO'"], ['1', '1'], ['null', 'null'], ['a symbol', "Symbol('s')"]]],
  ['bind_to_device', 'sock', [['a 16-char name (past IFNAMSIZ)', 'long(16)'], ['a 10 000-char name', 'long(10000)'], ["'lo\\0'", "'lo\\0'"], ['5', '5'], ['null', 'null'], ['a symbol', "Symbol('s')"]]],
  ['multicast_if', 'sock', [["'nonsense'", "'nonsense'"], ['5', '5'], ['an empty string', "''"], ['null', 'null'], ['a symbol', "Symbol('s')"]]],
  ['multicast_if', 'sock6', [["'nosuchif0' (names no interface)", "'nosuchif0'"], ['-1', '-1'], ['2**31', '2**31'], ['1.5', '1.5'], ["'7' (a number as a string)", "'7'"]]],
  ...['add_membership', 'drop_membership'].map((name) => [name, 'sock', [
    ["'x'", "'x'"], ['an empty array', '[]'], ['a 1-tuple', "['239.1.1.1']"], ['an interface number on IPv4', "['239.1.1.1', 5]"],
    ['a group number', "[5, '0.0.0.0']"], ['a bad group', "['nonsense', '0.0.0.0']"], ['a 3-tuple', "['239.1.1.1', '0.0.0.0', 'extra']"],
    ['a symbol group', "[Symbol('s'), '0.0.0.0']"], ['a cyclic array', 'cyclic()'],
  ]] as [string, 'sock', V[]]),
  ['add_membership', 'sock6', [["an interface name that names no interface", "['ff02::1', 'nosuchif0']"], ['a negative index', "['ff02::1', -1]"]]],
  ...['add_source_membership', 'drop_source_membership'].map((name) => [name, 'sock', [
    ['a 2-tuple', "['232.1.1.1', '0.0.0.0']"], ['a bad source', "['232.1.1.1', '0.0.0.0', 'nonsense']"], ['a cyclic array', 'cyclic()'],
  ]] as [string, 'sock', V[]]),
  ['raw', 'sock', [
    ['5', '5'], ["'x'", "'x'"], ['null', 'null'], ['an empty object', '{}'],
    ['level -1', '{ level: -1, option: 1, value: Buffer.alloc(4) }'], ['option 2**31', '{ level: 1, option: 2**31, value: Buffer.alloc(4) }'],
    ['level 1.5', '{ level: 1.5, option: 1, value: Buffer.alloc(4) }'], ['level a symbol', "{ level: Symbol('s'), option: 1, value: Buffer.alloc(4) }"],
    ['a string value', "{ level: 1, option: 1, value: 'abcd' }"], ['an array value', '{ level: 1, option: 1, value: [1, 2, 3, 4] }'],
    ['a Uint16Array value', '{ level: 1, option: 1, value: new Uint16Array(2) }'], ['a 4097-byte value', '{ level: 1, option: 1, value: Buffer.alloc(4097) }'],
    ['a list holding a bad entry', '[{ level: 1, option: 2, value: Buffer.alloc(4) }, 5]'],
  ]],
  ['active', 'sock', [["'twice'", "'twice'"], ['1.5', '1.5'], ['32768', '32768'], ['null', 'null']]],
];
for (const [name, socket, values] of OPTION_VALUES) {
  for (const [label, value] of values) add('setopts', `${name} = ${label}`, `UDP.setopts(${socket}, { ${name}: ${value} })`);
  // listen and open apply the same options before bind: one value each.
  const ip = socket === 'sock6' ? "'::1'" : "'loopback'";
  if (name !== 'active') {
    add('listen', `option ${name} = ${values[0][0]}`, `UDP.listen(0, { ip: ${ip}, ${name}: ${values[0][1]} })`);
    const [label, value] = values[values.length > 1 ? 1 : 0];
    add('open', `option ${name} = ${label}`, `UDP.open(0, { ip: ${ip}, ${name}: ${value} })`);
  }
}

// Values the kernel refuses, and options of another family: the kernel's (or inet's) reason.
add('setopts', 'bind_to_device a 15-char device that does not exist (the kernel decides)', "UDP.setopts(sock, { bind_to_device: 'nosuchdevice15c' })", 'enodev');
add('listen', 'bind_to_device a 15-char device that does not exist (the kernel decides)', "UDP.listen(0, { bind_to_device: 'nosuchdevice15c' })", 'enodev');
add('setopts', "multicast_if '192.0.2.1', not an address of this host (the kernel decides)", "UDP.setopts(sock, { multicast_if: '192.0.2.1' })", 'eaddrnotavail');
add('setopts', 'IPv6 multicast_if 99999, no such interface (the kernel decides)', 'UDP.setopts(sock6, { multicast_if: 99999 })', 'enodev');
add('setopts', 'add_membership of a unicast group (the kernel decides)', "UDP.setopts(sock, { add_membership: ['127.0.0.1', '127.0.0.1'] })", 'einval');
add('setopts', 'drop_membership of a group never joined (the kernel decides)', "UDP.setopts(sock, { drop_membership: ['239.1.2.3', '127.0.0.1'] })", 'eaddrnotavail');
add('setopts', 'raw with an option the kernel does not know', 'UDP.setopts(sock, { raw: { level: 1, option: 9999, value: Buffer.alloc(4) } })', 'enoprotoopt');
add('setopts', 'tclass on an IPv4 socket', 'UDP.setopts(sock, { tclass: 5 })', 'einval');
add('setopts', 'recvhoplimit on an IPv4 socket', 'UDP.setopts(sock, { recvhoplimit: true })', 'einval');
add('setopts', 'ttl on a unix socket', 'UDP.setopts(usock, { ttl: 5 })', 'einval');
add('setopts', 'multicast_loop on a unix socket', 'UDP.setopts(usock, { multicast_loop: true })', 'einval');
add('listen', 'ttl on a unix socket', "UDP.listen(0, { ip: { local: tmp + '/l' }, ttl: 5 })", 'einval');

// ---- setopts: the call itself ----------------------------------------------------------------
for (const [label, value] of [
  ...without(WRONG_TYPES, 'an object'), ['a string', "'ttl'"], ['a number', '5'], ['a list of pairs', "[['ttl', 5]]"], ['a Map', "new Map([['ttl', 5]])"],
] as V[]) add('setopts', `options are ${label}`, `UDP.setopts(sock, ${value})`);
for (const [label, value] of [["ip", "{ ip: '127.0.0.1' }"], ['family', "{ family: 'inet' }"], ['fd', '{ fd: 3 }'], ['netns', "{ netns: '/x' }"], ['inet_backend', "{ inet_backend: 'inet' }"]] as V[]) {
  add('setopts', `the listen-only option ${label}`, `UDP.setopts(sock, ${value})`);
}
add('setopts', 'a good option and a bad one together', "UDP.setopts(sock, { ttl: 9, tos: 'high' })");

// ---- getopts ---------------------------------------------------------------------------------
for (const [label, value] of [
  ...without(WRONG_TYPES, 'an array'), ["a name, not a list", "'ttl'"], ['a number', '5'], ['a Set of names', "new Set(['ttl'])"],
] as V[]) add('getopts', `names are ${label}`, `UDP.getopts(sock, ${value})`);
for (const [label, value] of [
  ["'bogus'", "'bogus'"], ["'TTL'", "'TTL'"], ['an empty name', "''"], ['a number', '5'], ['null', 'null'], ['undefined', 'undefined'],
  ['an object', '{}'], ['an array', "['ttl']"], ['a symbol', "Symbol('s')"], ['a bigint', '1n'], ['true', 'true'],
  ["'toString'", "'toString'"], ["'constructor'", "'constructor'"], ["'__proto__'", "'__proto__'"], ["'hasOwnProperty'", "'hasOwnProperty'"],
  ["the listen option 'ip'", "'ip'"], ["the listen option 'fd'", "'fd'"], ["the listen option 'family'", "'family'"], ["the listen option 'netns'", "'netns'"],
  ["the refused 'header'", "'header'"], ["'raw' as a bare name (raw needs { raw: { level, option, length } })", "'raw'"],
  ['{ raw: 1 }', '{ raw: 1 }'], ['{ raw: null }', '{ raw: null }'], ['{ raw: {} }', '{ raw: {} }'],
  ['raw level -1', '{ raw: { level: -1, option: 1, length: 4 } }'], ['raw length 4097', '{ raw: { level: 1, option: 1, length: 4097 } }'],
  ['raw length 2**31', '{ raw: { level: 1, option: 1, length: 2**31 } }'], ['raw length 1.5', '{ raw: { level: 1, option: 1, length: 1.5 } }'],
  ["raw level 'x'", "{ raw: { level: 'x', option: 1, length: 4 } }"], ['raw level 2**53', '{ raw: { level: 2**53, option: 1, length: 4 } }'],
  ['raw option NaN', '{ raw: { level: 1, option: NaN, length: 4 } }'], ["{ RAW: ... }", '{ RAW: { level: 1, option: 1, length: 4 } }'],
] as V[]) add('getopts', `a name that is ${label}`, `UDP.getopts(sock, ['ttl', ${value}])`);
add('getopts', 'raw with an option the kernel does not know', 'UDP.getopts(sock, [{ raw: { level: 1, option: 9999, length: 4 } }])', 'enoprotoopt');
add('getopts', "the set-only 'add_membership'", "UDP.getopts(sock, ['add_membership'])", 'einval');
add('getopts', 'tclass on an IPv4 socket', "UDP.getopts(sock, ['tclass'])", 'einval');
add('getopts', 'ttl on a unix socket', "UDP.getopts(usock, ['ttl'])", 'einval');

// ---- connect ---------------------------------------------------------------------------------
for (const [label, value] of [...WRONG_TYPES, ['a number', '5'], ...BAD_IPS, ...UNKNOWN_NAMES] as V[]) {
  add('connect', `address is ${label}`, `UDP.connect(sock, ${value}, 9)`);
}
for (const [label, value] of IPV6_ON_IPV4) add('connect', `address is ${label}`, `UDP.connect(sock, ${value}, 9)`, 'eafnosupport');
for (const [label, value] of BAD_PORTS) add('connect', `port is ${label}`, `UDP.connect(sock, '127.0.0.1', ${value})`);
add('connect', 'a unix address that is a number', 'UDP.connect(usock, { local: 5 }, 0)');
add('connect', 'a unix path of 108 bytes', `UDP.connect(usock, { local: ${PATH_108} }, 0)`, 'enametoolong');
add('connect', 'a unix path of 10 000 bytes', 'UDP.connect(usock, { local: long(10000) }, 0)', 'enametoolong');
add('connect', 'a unix path with a NUL byte inside', "UDP.connect(usock, { local: tmp + '/a\\0b' }, 0)");
add('connect', 'a unix path nobody bound (the kernel decides)', "UDP.connect(usock, { local: tmp + '/missing' }, 0)", 'enoent');
add('connect', 'an IP address on a unix socket', "UDP.connect(usock, '127.0.0.1', 9)", 'eafnosupport');
add('connect', 'a unix address on an IP socket', "UDP.connect(sock, { local: tmp + '/x' }, 0)", 'eafnosupport');

// ---- controllingProcess ----------------------------------------------------------------------
for (const [label, value] of [
  ...WRONG_TYPES, ["the string '1'", "'1'"], ['-1', '-1'], ['1.5', '1.5'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['2**31', '2**31'],
  ['2**53', '2**53'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'], ['an unknown threadId', '987654'], ['a Worker that has exited', 'deadWorker'],
  ['a Worker lookalike', '({ threadId: 1 })'],
] as V[]) add('controllingProcess', `owner is ${label}`, `UDP.controllingProcess(sock, ${value})`);

// ---- adopt -----------------------------------------------------------------------------------
for (const [label, value] of [...WRONG_TYPES, ['a number', '5'], ['a string', "'ref'"], ['an array of a ref', '[sock.handoff]']] as V[]) {
  add('adopt', `ref is ${label}`, `UDP.adopt(${value})`);
}
for (const [label, value] of [
  ['0', '0'], ['-1', '-1'], ['1.5', '1.5'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ["the string '1'", "'1'"], ['null', 'null'],
  ['2**53', '2**53'], ['Number.MAX_VALUE', 'Number.MAX_VALUE'], ['a bigint', '1n'],
] as V[]) add('adopt', `abyssSocket is ${label}`, `UDP.adopt({ abyssSocket: ${value}, carry: [] })`);
add('adopt', 'a ref without carry', 'UDP.adopt({ abyssSocket: sock.handoff.abyssSocket })');
add('adopt', 'the ref of a socket this thread owns and never handed', 'UDP.adopt(sock.handoff)');
add('adopt', "the socket's ref() method, the token's first name", 'UDP.adopt(sock.ref)');
for (const [label, value] of [
  ["carry is a string", "{ ...handedRef, carry: 'x' }"], ['carry holds a number', '{ ...handedRef, carry: [5] }'],
  ['carry holds an object that is no datagram', '{ ...handedRef, carry: [{ data: 5 }] }'],
  ['buffer is -1', '{ ...handedRef, buffer: -1 }'], ["buffer is 'big'", "{ ...handedRef, buffer: 'big' }"],
  ['readPackets is 1000', '{ ...handedRef, readPackets: 1000 }'], ['readPackets is 1.5', '{ ...handedRef, readPackets: 1.5 }'],
] as V[]) add('adopt', `a handed ref whose ${label}`, `UDP.adopt(${value})`);

// ---- recv / recvBatch ------------------------------------------------------------------------
const BAD_TIMEOUTS: V[] = [
  ...WRONG_TYPES, ["'100'", "'100'"], ["'forever'", "'forever'"], ['an empty string', "''"], ["'Infinity'", "'Infinity'"], ["'INFINITY'", "'INFINITY'"],
  ['NaN', 'NaN'], ['-Infinity', '-Infinity'], ['-1', '-1'], ['-0.5', '-0.5'],
];
const BAD_RECV_OPTIONS: V[] = [
  ['null', 'null'], ['a number', '5'], ['a string', "'x'"], ['an array', '[]'], ['a function', '() => 0'], ['a symbol', "Symbol('s')"],
  ["{ signal: 'x' }", "{ signal: 'x' }"], ['{ signal: {} }', '{ signal: {} }'], ['{ signal: null }', '{ signal: null }'],
  ['{ signal: an AbortController }', '{ signal: new AbortController() }'],
];
for (const [label, value] of [...NOT_A_NUMBER, ...BAD_NUMBERS]) add('recv', `numBytes is ${label}`, `UDP.recv(sock, ${value}, 0)`);
for (const [label, value] of BAD_TIMEOUTS) add('recv', `timeout is ${label}`, `UDP.recv(sock, 0, ${value})`);
for (const [label, value] of BAD_RECV_OPTIONS) add('recv', `options are ${label}`, `UDP.recv(sock, 0, 0, ${value})`);
add('recv', 'an active socket', 'UDP.recv(activeSock, 0, 0)', 'einval');
add('recv', 'an aborted signal', 'UDP.recv(sock, 0, 1000, { signal: AbortSignal.abort() })', 'aborted');
for (const [label, value] of [...NOT_A_NUMBER, ...BAD_NUMBERS, ['0', '0']]) add('recvBatch', `max is ${label}`, `UDP.recvBatch(sock, ${value}, 0)`);
for (const [label, value] of BAD_TIMEOUTS) add('recvBatch', `timeout is ${label}`, `UDP.recvBatch(sock, 8, ${value})`);
for (const [label, value] of BAD_RECV_OPTIONS) add('recvBatch', `options are ${label}`, `UDP.recvBatch(sock, 8, 0, ${value})`);
add('recvBatch', 'an active socket', 'UDP.recvBatch(activeSock, 8, 0)', 'einval');
add('recvBatch', 'an aborted signal', 'UDP.recvBatch(sock, 8, 1000, { signal: AbortSignal.abort() })', 'aborted');
for (const [label, value] of [...NOT_A_SOCKET, ['a Buffer', 'Buffer.alloc(64)'], ['a look-alike', '({ data: Buffer.alloc(64), slots: 1, slotSize: 64 })'],
  ['a Proxy of an arena', 'new Proxy(new RecvArena({ slots: 1 }), {})']]) {
  add('recvInto', `arena is ${label}`, `UDP.recvInto(sock, ${value}, 0)`);
}
for (const [label, value] of BAD_TIMEOUTS) add('recvInto', `timeout is ${label}`, `UDP.recvInto(sock, new RecvArena({ slots: 1 }), ${value})`);
for (const [label, value] of BAD_RECV_OPTIONS) add('recvInto', `options are ${label}`, `UDP.recvInto(sock, new RecvArena({ slots: 1 }), 0, ${value})`);
add('recvInto', 'an active socket', 'UDP.recvInto(activeSock, new RecvArena({ slots: 1 }), 0)', 'einval');
add('recvInto', 'an aborted signal', 'UDP.recvInto(sock, new RecvArena({ slots: 1 }), 1000, { signal: AbortSignal.abort() })', 'aborted');

// ---- send (four overloads) ---------------------------------------------------------------------
for (const [label, value] of BAD_DATA) {
  add('send/2', `data is ${label}`, `UDP.send(csock, ${value})`);
  add('send/3', `data is ${label}`, `UDP.send(sock, { address: '127.0.0.1', port: 9 }, ${value})`);
  add('send/4', `data is ${label}`, `UDP.send(sock, '127.0.0.1', 9, ${value})`);
  add('send/5', `data is ${label}`, `UDP.send(sock, '127.0.0.1', 9, {}, ${value})`);
}
add('send/2', 'an unconnected socket (the kernel decides)', "UDP.send(sock, 'x')", 'edestaddrreq');
add('send/2', '70 000 bytes, past the largest UDP datagram (the kernel decides)', 'UDP.send(csock, Buffer.alloc(70000))', 'emsgsize');
add('send/4', '70 000 bytes, past the largest UDP datagram (the kernel decides)', "UDP.send(sock, '127.0.0.1', 9, Buffer.alloc(70000))", 'emsgsize');
add('send/2', 'no data at all (one argument)', 'UDP.send(sock)');
add('send/2', 'no arguments', 'UDP.send()');
add('send/5', 'six arguments', "UDP.send(sock, '127.0.0.1', 9, {}, 'x', 'extra')");

for (const [label, value] of [
  ...WRONG_TYPES, ["an address string, not an object", "'127.0.0.1'"], ['a number', '5'], ['an empty object', '{}'],
  ['{ address } without a port', "{ address: '127.0.0.1' }"], ['{ port } without an address', '{ port: 9 }'],
  ['{ address: 5 }', '{ address: 5, port: 9 }'], ['{ address: null }', '{ address: null, port: 9 }'], ["{ address: 'unspec' }", "{ address: 'unspec', port: 9 }"],
  ['{ local: 5 }', '{ local: 5 }'],
  ...BAD_IPS.map(([l, v]): V => [`{ address: ${l} }`, `{ address: ${v}, port: 9 }`]),
  ...BAD_PORTS.map(([l, v]): V => [`{ port: ${l} }`, `{ address: '127.0.0.1', port: ${v} }`]),
] as V[]) add('send/3', `destination is ${label}`, `UDP.send(sock, ${value}, 'x')`);
for (const [label, value] of UNKNOWN_NAMES) add('send/3', `destination is { address: ${label} }`, `UDP.send(sock, { address: ${value}, port: 9 }, 'x')`, 'nxdomain');
for (const [label, value] of IPV6_ON_IPV4) add('send/3', `destination is { address: ${label} }`, `UDP.send(sock, { address: ${value}, port: 9 }, 'x')`, 'eafnosupport');
add('send/3', 'a unix destination on an IP socket', "UDP.send(sock, { local: tmp + '/x' }, 'x')", 'eafnosupport');
add('send/3', 'an IP destination on a unix socket', "UDP.send(usock, { address: '127.0.0.1', port: 9 }, 'x')", 'eafnosupport');
add('send/3', 'a unix path of 108 bytes', `UDP.send(usock, { local: ${PATH_108} }, 'x')`, 'enametoolong');
add('send/3', 'a unix path of 10 000 bytes', "UDP.send(usock, { local: long(10000) }, 'x')", 'enametoolong');
add('send/3', 'a unix path with a NUL byte inside', "UDP.send(usock, { local: tmp + '/a\\0b' }, 'x')");
add('send/3', 'a unix path nobody bound (the kernel decides)', "UDP.send(usock, { local: tmp + '/missing' }, 'x')", 'enoent');

for (const [label, value] of [...WRONG_TYPES, ['a number', '5'], ["'unspec'", "'unspec'"], ...BAD_IPS] as V[]) {
  add('send/4', `address is ${label}`, `UDP.send(sock, ${value}, 9, 'x')`);
}
for (const [label, value] of UNKNOWN_NAMES) add('send/4', `address is ${label}`, `UDP.send(sock, ${value}, 9, 'x')`, 'nxdomain');
for (const [label, value] of IPV6_ON_IPV4) add('send/4', `address is ${label}`, `UDP.send(sock, ${value}, 9, 'x')`, 'eafnosupport');
for (const [label, value] of BAD_PORTS) add('send/4', `port is ${label}`, `UDP.send(sock, '127.0.0.1', ${value}, 'x')`);
add('send/4', 'an IP address on a unix socket', "UDP.send(usock, '127.0.0.1', 9, 'x')", 'eafnosupport');

for (const [label, value] of [...without(WRONG_TYPES, 'undefined', 'an object'), ["a string", "'ttl'"], ['a number', '7'], ['a Map', "new Map([['ttl', 2]])"]] as V[]) {
  add('send/5', `ancillary is ${label}`, `UDP.send(sock, '127.0.0.1', 9, ${value}, 'x')`);
}
for (const [label, value] of [
  ["an unknown key 'bogus'", '{ bogus: 1 }'], ["'TTL' (case matters)", '{ TTL: 2 }'], ["'toString'", '{ toString: 1 }'],
  ["'segment_size' (a near miss)", '{ segment_size: 1000 }'], ['an unknown key inside pktinfo', '{ pktinfo: { bogus: 1 } }'],
  ...([['0', '0'], ['256', '256'], ['-1', '-1'], ['1.5', '1.5'], ['NaN', 'NaN'], ['Infinity', 'Infinity'], ['2**31', '2**31'], ['2**53', '2**53'],
    ["'5'", "'5'"], ['null', 'null'], ['true', 'true'], ['a symbol', "Symbol('s')"], ['a bigint', '5n'], ['an object', '{}']] as V[])
    .map(([l, v]): V => [`ttl ${l}`, `{ ttl: ${v} }`]),
  ['tos -1', '{ tos: -1 }'], ['tos 256', '{ tos: 256 }'], ["tos 'x'", "{ tos: 'x' }"], ['tos a symbol', "{ tos: Symbol('s') }"],
  ['tclass on an IPv4 socket', '{ tclass: 0 }'], ['hoplimit on an IPv4 socket', '{ hoplimit: 5 }'],
  ['segmentSize 0', '{ segmentSize: 0 }'], ['segmentSize -1', '{ segmentSize: -1 }'], ['segmentSize 65536', '{ segmentSize: 65536 }'],
  ['segmentSize 1.5', '{ segmentSize: 1.5 }'], ["segmentSize 'x'", "{ segmentSize: 'x' }"],
  ["pktinfo 'x'", "{ pktinfo: 'x' }"], ['pktinfo 5', '{ pktinfo: 5 }'], ['pktinfo null', '{ pktinfo: null }'], ['pktinfo a symbol', "{ pktinfo: Symbol('s') }"],
  ["pktinfo.address 'nope'", "{ pktinfo: { address: 'nope' } }"], ["pktinfo.address '::1' on IPv4", "{ pktinfo: { address: '::1' } }"],
  ['pktinfo.address 5', '{ pktinfo: { address: 5 } }'], ['pktinfo.address a symbol', "{ pktinfo: { address: Symbol('s') } }"],
  ['pktinfo.address 10 000 chars', "{ pktinfo: { address: long(10000, '1') } }"],
  ['pktinfo.ifindex -1', '{ pktinfo: { ifindex: -1 } }'], ['pktinfo.ifindex 1.5', '{ pktinfo: { ifindex: 1.5 } }'],
  ['pktinfo.ifindex 2**31', '{ pktinfo: { ifindex: 2**31 } }'], ['pktinfo.ifindex 2**53', '{ pktinfo: { ifindex: 2**53 } }'],
  ["pktinfo.ifindex 'nosuchif0'", "{ pktinfo: { ifindex: 'nosuchif0' } }"], ['pktinfo.ifindex a symbol', "{ pktinfo: { ifindex: Symbol('s') } }"],
  ["pktinfo.specDst 'x'", "{ pktinfo: { specDst: 'x' } }"],
] as V[]) add('send/5', `ancillary ${label}`, `UDP.send(sock, '127.0.0.1', 9, ${value}, 'x')`);
add('send/5', 'ancillary ttl on an IPv6 socket', "UDP.send(sock6, '::1', 9, { ttl: 5 }, 'x')");
add('send/5', 'ancillary pktinfo.ifindex 99999, no such interface (the kernel decides)', "UDP.send(sock, '127.0.0.1', 9, { pktinfo: { ifindex: 99999 } }, 'x')", 'enodev');
for (const [label, value] of BAD_PORTS.slice(0, 8)) add('send/5', `port is ${label}`, `UDP.send(sock, '127.0.0.1', ${value}, {}, 'x')`);
for (const [label, value] of BAD_IPS) add('send/5', `address is ${label}`, `UDP.send(sock, ${value}, 9, {}, 'x')`);
for (const [label, value] of UNKNOWN_NAMES) add('send/5', `address is ${label}`, `UDP.send(sock, ${value}, 9, {}, 'x')`, 'nxdomain');

// ---- sendBatch -------------------------------------------------------------------------------
const MSG = "{ address: '127.0.0.1', port: 9, data: 'x' }";
for (const [label, value] of [
  ...without(WRONG_TYPES, 'an array'), ['a number', '5'], ['a string', "'x'"], ['one message, not a list', MSG],
  ['a Set of messages', `new Set([${MSG}])`], ['an array-like object', `({ length: 1, 0: ${MSG} })`],
] as V[]) add('sendBatch', `messages are ${label}`, `UDP.sendBatch(sock, ${value})`);
for (const [label, value] of [
  ['null', 'null'], ['undefined', 'undefined'], ['a number', '5'], ['a string', "'x'"], ['an array', `[${MSG}]`], ['a function', '() => 0'],
  ['a symbol', "Symbol('s')"], ['a Buffer', "Buffer.from('x')"],
] as V[]) add('sendBatch', `a message is ${label}`, `UDP.sendBatch(sock, [${MSG}, ${value}])`);
add('sendBatch', 'a sparse list (a hole)', `UDP.sendBatch(sock, [${MSG}, , ${MSG}])`);
add('sendBatch', 'a list of holes (new Array(2))', 'UDP.sendBatch(sock, new Array(2))');
for (const [label, value] of [
  ['a number', '5'], ['null', 'null'], ['true', 'true'], ['a symbol', "Symbol('s')"], ['{ local: 5 }', '{ local: 5 }'], ["'unspec'", "'unspec'"],
  ...BAD_IPS,
] as V[]) add('sendBatch', `address is ${label}`, `UDP.sendBatch(sock, [{ address: ${value}, port: 9, data: 'x' }])`);
for (const [label, value] of UNKNOWN_NAMES) add('sendBatch', `address is ${label}`, `UDP.sendBatch(sock, [{ address: ${value}, port: 9, data: 'x' }])`, 'nxdomain');
for (const [label, value] of IPV6_ON_IPV4) add('sendBatch', `address is ${label}`, `UDP.sendBatch(sock, [{ address: ${value}, port: 9, data: 'x' }])`, 'eafnosupport');
for (const [label, value] of BAD_PORTS) add('sendBatch', `port is ${label}`, `UDP.sendBatch(sock, [{ address: '127.0.0.1', port: ${value}, data: 'x' }])`);
for (const [label, value] of BAD_DATA) add('sendBatch', `data is ${label}`, `UDP.sendBatch(sock, [{ address: '127.0.0.1', port: 9, data: ${value} }])`);
for (const [label, value] of [
  ["a string", "'ttl'"], ['a number', '5'], ['null', 'null'], ['an array', '[]'], ['a symbol', "Symbol('s')"],
  ["an unknown key", '{ bogus: 1 }'], ['ttl 0', '{ ttl: 0 }'], ['ttl a symbol', "{ ttl: Symbol('s') }"], ["pktinfo 'x'", "{ pktinfo: 'x' }"],
  ['segmentSize 65536', '{ segmentSize: 65536 }'], ['tclass on an IPv4 socket', '{ tclass: 0 }'],
] as V[]) add('sendBatch', `ancillary is ${label}`, `UDP.sendBatch(sock, [{ address: '127.0.0.1', port: 9, data: 'x', ancillary: ${value} }])`);
for (const [label, value] of [
  ["an unknown field 'bogus'", 'bogus: 1'], ["the misspelt field 'ancilary'", 'ancilary: { ttl: 2 }'], ["the field 'Port' (case matters)", 'Port: 10'],
  ["the field 'dest'", "dest: { address: '127.0.0.2', port: 10 }"],
] as V[]) add('sendBatch', `a message with ${label}`, `UDP.sendBatch(sock, [{ address: '127.0.0.1', port: 9, data: 'x', ${value} }])`);
add('sendBatch', 'a bad message after two good ones', `UDP.sendBatch(sock, [${MSG}, ${MSG}, { address: '127.0.0.1', port: 9, data: 42 }])`);
add('sendBatch', 'a message without an address on an unconnected socket (the kernel decides)', "UDP.sendBatch(sock, [{ port: 9, data: 'x' }])", 'edestaddrreq');
add('sendBatch', 'a unix path of 108 bytes', `UDP.sendBatch(usock, [{ address: { local: ${PATH_108} }, data: 'x' }])`, 'enametoolong');
add('sendBatch', 'a unix path with a NUL byte inside', "UDP.sendBatch(usock, [{ address: { local: tmp + '/a\\0b' }, data: 'x' }])");
add('sendBatch', 'an IP address on a unix socket', "UDP.sendBatch(usock, [{ address: '127.0.0.1', port: 9, data: 'x' }])", 'eafnosupport');
add('sendBatch', 'a unix address on an IP socket', "UDP.sendBatch(sock, [{ address: { local: tmp + '/x' }, data: 'x' }])", 'eafnosupport');

// ---- peername, negotiatedProtocol: the errors they have on good sockets -------------------------
add('peername', 'an unconnected socket (the kernel decides)', 'UDP.peername(sock)', 'enotconn');
add('peername', 'an unconnected unix socket (the kernel decides)', 'UDP.peername(usock)', 'enotconn');
add('negotiatedProtocol', 'plain UDP', 'UDP.negotiatedProtocol(sock)', 'protocol_not_negotiated');

// ---- splitSegments ---------------------------------------------------------------------------
const DATAGRAM = "address: '127.0.0.1', port: 1, data: Buffer.alloc(8)";
for (const [label, value] of [...WRONG_TYPES, ['a number', '5'], ['a string', "'x'"], ['a Buffer', 'Buffer.alloc(8)']] as V[]) {
  add('splitSegments', `datagram is ${label}`, `UDP.splitSegments(${value})`);
}
for (const [label, value] of [
  ['without data', "{ address: '127.0.0.1', port: 1 }"], ['with string data', "{ address: '127.0.0.1', port: 1, data: 'abcd' }"],
  ['with numeric data', "{ address: '127.0.0.1', port: 1, data: 5 }"], ['with null data', "{ address: '127.0.0.1', port: 1, data: null }"],
  ['with ancillary a number', `{ ${DATAGRAM}, ancillary: 5 }`], ['with ancillary null', `{ ${DATAGRAM}, ancillary: null }`],
  ...([['-1', '-1'], ['-Infinity', '-Infinity'], ['0', '0'], ['0.5', '0.5'], ['NaN', 'NaN'], ["'x'", "'x'"], ["'4'", "'4'"], ['null', 'null'],
    ['a symbol', "Symbol('s')"], ['a bigint', '4n'], ['an object', '{}']] as V[])
    .map(([l, v]): V => [`with segmentSize ${l}`, `{ ${DATAGRAM}, ancillary: { segmentSize: ${v} } }`]),
] as V[]) add('splitSegments', `a datagram ${label}`, `UDP.splitSegments(${value})`);

// ---------------------------------------------------------------------------------------------
// Running the table
// ---------------------------------------------------------------------------------------------

/** The real number of cases; the table may grow, never shrink unnoticed. */
const MIN_CASES = 1535;

interface ErrorInfo {
  transport?: boolean;
  native?: boolean;
  isError?: boolean;
  name?: string;
  ctor?: string;
  reason?: unknown;
  code?: unknown;
  message?: string;
  thrown?: string;
}
interface Outcome {
  mode: 'threw' | 'returned' | 'rejected' | 'resolved' | 'pending' | 'hang' | 'crash';
  error?: ErrorInfo;
  value?: string;
  detail?: string;
  unhandled?: ErrorInfo[];
  uncaught?: ErrorInfo[];
}

const RUNNER = path.join(__dirname, 'scripts', 'bad-input-runner.js');
/** A case that has not answered after this long is stuck (the runner bounds promises at 1 s). */
const HANG_MS = 3000;
/** A case that makes the runner grow past this is running away with memory. */
const MAX_RSS_KB = 1_500_000;

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs cases[start..] in one runner process; resolves with the index to go on from. */
function runFrom(start: number, file: string, dir: string, results: Map<number, Outcome>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=256', RUNNER, file, String(start), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let running: { i: number; since: number } | undefined;
    let next = start;
    let ended = false;
    let killedFor: string | undefined;
    let stderr = '';
    let lastLine = Date.now();
    child.stderr.on('data', (chunk) => { stderr = (stderr + String(chunk)).slice(-2000); });
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      lastLine = Date.now();
      const message = JSON.parse(line) as { i: number; phase: string; outcome?: Outcome };
      if (message.phase === 'start') running = { i: message.i, since: Date.now() };
      if (message.phase === 'done') {
        results.set(message.i, message.outcome!);
        running = undefined;
        next = message.i + 1;
      }
      if (message.phase === 'end') ended = true;
    });
    const kill = (why: string): void => {
      if (killedFor) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const watchdog = setInterval(() => {
      if (running && Date.now() - running.since > HANG_MS) kill(`no answer within ${HANG_MS} ms`);
      if (running && rssKb(child.pid!) > MAX_RSS_KB) kill(`the process grew past ${MAX_RSS_KB / 1000} MB`);
      // Between cases the runner only builds fixtures: a stall there is a hang of the next case.
      if (!running && !ended && Date.now() - lastLine > 10_000) kill('the runner stalled between cases');
    }, 50);
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      if (ended) return resolve(CASES.length);
      const detail = `${killedFor ?? `the runner died (exit ${code}, signal ${signal})`}; stderr: ${stderr.slice(-600)}`;
      if (!running && next === start && !killedFor) {
        // It died before its first case: it cannot start (or build fixtures). Do not retry per case.
        for (let i = start; i < CASES.length; i++) results.set(i, { mode: 'crash', detail: `before the call: ${detail}` });
        return resolve(CASES.length);
      }
      // The case that was running (or, failing before its start, the next one) is the culprit.
      const culprit = running ? running.i : next;
      const how = killedFor ? 'hang' : 'crash';
      results.set(culprit, { mode: how, detail: `${running ? '' : 'before the call: '}${detail}` });
      resolve(culprit + 1);
    });
  });
}

async function runMatrix(): Promise<Map<number, Outcome>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-bi-'));
  const file = path.join(dir, 'cases.json');
  fs.writeFileSync(file, JSON.stringify(CASES.map(({ code, where }) => ({ code, where }))));
  const results = new Map<number, Outcome>();
  try {
    for (let next = 0; next < CASES.length;) next = await runFrom(next, file, dir, results);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

let results = new Map<number, Outcome>();
beforeAll(async () => {
  results = await runMatrix();
}, 600_000);

const pad = String(CASES.length).length;
const TITLED = CASES.map((c, i): [string, Case, number] => [
  `#${String(i + 1).padStart(pad, '0')} ${c.fn}: ${c.what}${c.where ? ' [worker]' : ''} → ${c.expected}`, c, i,
]);

describe(`bad-input matrix (${CASES.length} cases)`, () => {
  test(`the table has at least ${MIN_CASES} cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(MIN_CASES);
    expect(new Set(CASES.map((c) => `${c.fn} ${c.what} ${c.where ?? ''}`)).size).toBe(CASES.length);
  });

  test('every exported function of UDP, and all four send overloads, has cases', () => {
    const covered = new Set(CASES.map((c) => c.fn.replace(/\/\d$/, '')));
    expect([...covered].sort()).toEqual(Object.keys(UDP).sort());
    expect(new Set(CASES.filter((c) => c.fn.startsWith('send/')).map((c) => c.fn))).toEqual(new Set(['send/2', 'send/3', 'send/4', 'send/5']));
  });

  test('every case ran', () => {
    expect(CASES.filter((_c, i) => !results.has(i)).map((c) => `${c.fn}: ${c.what}`)).toEqual([]);
  });

  test.each(TITLED)('%s', (_title, c, i) => {
    const outcome = results.get(i);
    if (!outcome) throw new Error('the case did not run');
    if (outcome.mode === 'hang' || outcome.mode === 'crash') throw new Error(`the call ${outcome.mode === 'hang' ? 'hung' : 'crashed the process'}: ${outcome.detail}\n  ${c.code}`);
    const error = outcome.error ?? {};
    const actual = {
      how: outcome.mode,
      ...(outcome.value !== undefined ? { value: outcome.value } : {}),
      transportError: error.transport === true && error.native === true && error.isError === true && error.name === 'TransportError',
      reason: error.reason,
      code: error.code,
      unhandledRejections: outcome.unhandled ?? [],
      uncaughtExceptions: outcome.uncaught ?? [],
    };
    const expected = {
      how: ASYNC.has(c.fn) ? 'rejected' : 'threw',
      transportError: true,
      reason: c.expected,
      code: c.expected.toUpperCase(),
      unhandledRejections: [],
      uncaughtExceptions: [],
    };
    const context = `\n  code: ${c.code}\n  got: ${outcome.mode}${outcome.value !== undefined ? ` ${outcome.value}` : ''}` +
      `${outcome.error ? ` ${error.ctor ?? error.name}${error.reason !== undefined ? ` reason '${String(error.reason)}'` : ''}: ${error.message ?? error.thrown}` : ''}`;
    try {
      expect(actual).toEqual(expected);
      expect(typeof error.reason === 'string' && /^[a-z][a-z0-9_]*$/.test(error.reason) && error.reason === String(error.code).toLowerCase()).toBe(true);
    } catch (failure) {
      (failure as Error).message += context;
      throw failure;
    }
  });
});
