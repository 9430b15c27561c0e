/**
 * The two transports of the contract, for the suites that run against both: `UDP` (the addon)
 * and `DgramUDP` (node:dgram). `eachTransport(body)` runs a suite body once per transport, in
 * a describe named after it. What only the addon can do is not skipped on DgramUDP: the test
 * asserts DgramUDP's `enotsup` instead (`testNative`).
 */
import { DgramUDP, UDP, type ListenOptions, type Socket } from '../../lib';
import { track } from './sockets';

/** The calls both transports have, typed as UDP's: a DgramSocket stands in for a Socket. */
export type AnyTransport = Pick<typeof UDP, keyof typeof DgramUDP & keyof typeof UDP>;

export interface Subject {
  name: 'UDP' | 'DgramUDP';
  T: AnyTransport;
  /** The addon, which does everything the contract names; DgramUDP refuses the rest with enotsup. */
  native: boolean;
  /** Whether it has SO_REUSEPORT, on by default (node:dgram has it from Node 22.12 / 23.1 on). */
  reuseport: boolean;
  /** `T.listen`, the socket remembered for closeAll() (see `shared` for port 0 on DgramUDP). */
  listen(port?: number, options?: ListenOptions): Socket;
  /** `T.open`, likewise. */
  open(port?: number, options?: ListenOptions): Socket;
}

/**
 * node:dgram sets SO_REUSEADDR (and SO_REUSEPORT) before bind, and Linux may then give port 0
 * a port that a reusing socket of another test file holds, taking its datagrams (the addon
 * binds port 0 with them off; lib/dgram/index.ts says so). Unless a test asks for them, a
 * DgramUDP socket on port 0 does not reuse.
 */
function shared(port: number, options: ListenOptions = {}): ListenOptions {
  if (port !== 0 || options.fd !== undefined || options.reuseaddr !== undefined || options.reuseport !== undefined) return options;
  return { ...options, reuseaddr: false, reuseport: false };
}

/**
 * A loopback address no suite sends to: a socket that reuses its port there (a DgramUDP socket
 * on port 0, see `shared`) can take no other socket's datagrams, so defaults can be read there.
 */
export const UNSHARED_IP = '127.0.0.77';

const DGRAM_UDP = DgramUDP as unknown as AnyTransport;
const [NODE_MAJOR, NODE_MINOR] = process.versions.node.split('.').map(Number);

export const SUBJECTS: readonly Subject[] = [
  {
    name: 'UDP',
    T: UDP,
    native: true,
    reuseport: true,
    listen: (port = 0, options?) => track(UDP.listen(port, options)),
    open: (port = 0, options?) => track(UDP.open(port, options)),
  },
  {
    name: 'DgramUDP',
    T: DGRAM_UDP,
    native: false,
    reuseport: NODE_MAJOR > 23 || (NODE_MAJOR === 23 && NODE_MINOR >= 1) || (NODE_MAJOR === 22 && NODE_MINOR >= 12),
    listen: (port = 0, options?) => track(DGRAM_UDP.listen(port, shared(port, options))),
    open: (port = 0, options?) => track(DGRAM_UDP.open(port, shared(port, options))),
  },
];

export const [NATIVE, DGRAM] = SUBJECTS;

/** Runs `body` (describes and tests) once per transport, under a describe named after it. */
export function eachTransport(body: (subject: Subject) => void): void {
  describe.each(SUBJECTS)('$name', body);
}

/**
 * A test of what node:dgram cannot do: on UDP it runs `body`; on DgramUDP it runs `refused`,
 * which asserts that the transport says `enotsup` (a skipped test would say nothing).
 */
export function testNative(subject: Subject, title: string, body: jest.ProvidesCallback, refused: jest.ProvidesCallback): void {
  if (subject.native) test(title, body);
  else test(`${title}: enotsup`, refused);
}
