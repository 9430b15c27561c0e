/**
 * A TypeScript handle on test/peers/udp_peer.py: an independent datagram peer on Python's
 * socket module, driven by JSON lines. Every request is bounded by a timeout; every peer
 * started is killed by stopPeers() (call it in afterEach/afterAll).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const SCRIPT = path.join(__dirname, '..', 'peers', 'udp_peer.py');

export type PeerFamily = 'inet' | 'inet6' | 'unix';

export interface PeerDatagram {
  /** The payload the peer received. */
  data: Buffer;
  length: number;
  /** Sender as the peer's kernel reports it: IP literal, or the sender's path ('' unnamed). */
  address: string;
  /** Sender port (0 for unix). */
  port: number;
  truncated: boolean;
  tos?: number;
  ttl?: number;
  tclass?: number;
  hoplimit?: number;
}

export interface PeerSendOptions {
  /** Send the datagram this many times. */
  count?: number;
  tos?: number;
  ttl?: number;
  tclass?: number;
  hoplimit?: number;
}

export class PeerError extends Error {
  constructor(readonly reason: string, message: string) {
    super(`${reason}: ${message}`);
  }
}

type Json = Record<string, unknown>;

const running = new Set<Peer>();

export class Peer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: readline.Interface;
  readonly #waiting = new Map<number, { resolve(value: Json): void; reject(error: Error): void }>();
  #seq = 0;
  #ended = false;
  #stderr = '';

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    this.#lines = readline.createInterface({ input: child.stdout });
    this.#lines.on('line', (line) => {
      let seq: number;
      try {
        seq = (JSON.parse(line) as Json).seq as number ?? 0;
      } catch {
        return;
      }
      const waiter = this.#waiting.get(seq);
      if (!waiter) return;
      this.#waiting.delete(seq);
      try {
        waiter.resolve(JSON.parse(line));
      } catch (error) {
        waiter.reject(error as Error);
      }
    });
    child.stderr.on('data', (chunk) => { this.#stderr += String(chunk); });
    child.stdin.on('error', () => undefined);
    child.on('exit', () => {
      this.#ended = true;
      const waiters = [...this.#waiting.values()];
      this.#waiting.clear();
      for (const waiter of waiters) {
        waiter.reject(new Error(`python peer exited${this.#stderr ? `: ${this.#stderr}` : ''}`));
      }
    });
  }

  /** Starts a peer process and waits for it to be ready. */
  static async start(): Promise<Peer> {
    const child = spawn('python3', ['-u', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new Peer(child);
    running.add(peer);
    const ready = await peer.#next(0, 10_000);
    if (ready.ready !== true) throw new Error(`python peer did not start: ${JSON.stringify(ready)}`);
    return peer;
  }

  #next(seq: number, limit: number): Promise<Json> {
    return new Promise((resolve, reject) => {
      if (this.#ended) return reject(new Error('python peer has exited'));
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        reject(new Error(`python peer did not answer within ${limit} ms`));
      }, limit);
      this.#waiting.set(seq, {
        resolve: (value) => { clearTimeout(timer); resolve(value); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
    });
  }

  /** One command; resolves with the answer, rejects PeerError when the peer reports a failure. */
  async request(command: Json, limit = 8000): Promise<Json> {
    const seq = ++this.#seq;
    const answer = this.#next(seq, limit);
    this.#child.stdin.write(`${JSON.stringify({ ...command, seq })}\n`);
    const result = await answer;
    if (result.ok !== true) throw new PeerError(String(result.error), String(result.message));
    return result;
  }

  /** An IP socket bound to addr:port (default loopback of the family, port 0). */
  async bind(family: 'inet' | 'inet6' = 'inet', addr?: string, port = 0): Promise<PeerSocket> {
    const result = await this.request({ cmd: 'bind', family, ...(addr ? { addr } : {}), port });
    return new PeerSocket(this, result.id as number, family, result.address as string, result.port as number);
  }

  /** A unix datagram socket bound to `file` (unnamed when undefined). */
  async bindUnix(file?: string): Promise<PeerSocket> {
    const result = await this.request({ cmd: 'bind', family: 'unix', ...(file ? { addr: file } : {}) });
    return new PeerSocket(this, result.id as number, 'unix', result.path as string, 0);
  }

  /** A port that was bound and closed: nothing listens there. */
  async closedPort(family: 'inet' | 'inet6' = 'inet'): Promise<number> {
    return (await this.request({ cmd: 'closedport', family })).port as number;
  }

  kill(): void {
    running.delete(this);
    if (!this.#ended) this.#child.kill('SIGKILL');
    this.#lines.close();
  }
}

export class PeerSocket {
  constructor(
    readonly peer: Peer,
    readonly id: number,
    readonly family: PeerFamily,
    /** Bound IP address, or the bound path for unix. */
    readonly address: string,
    readonly port: number,
  ) {}

  /** Sends one datagram (to a path for unix). */
  async send(addr: string, port: number, data: Buffer | string, options: PeerSendOptions = {}): Promise<number> {
    const hex = Buffer.from(data).toString('hex');
    return (await this.peer.request({ cmd: 'send', id: this.id, addr, port, hex, ...options })).sent as number;
  }

  /** Sends on the connected socket. */
  async sendConnected(data: Buffer | string): Promise<number> {
    const hex = Buffer.from(data).toString('hex');
    return (await this.peer.request({ cmd: 'send', id: this.id, connected: true, hex })).sent as number;
  }

  async connect(addr: string, port = 0): Promise<void> {
    await this.peer.request({ cmd: 'connect', id: this.id, addr, port });
  }

  /** Waits (bounded) for one datagram. */
  async recv(timeoutMs = 3000, bufsize = 262144): Promise<PeerDatagram> {
    const result = await this.peer.request({ cmd: 'recv', id: this.id, timeout: timeoutMs / 1000, bufsize }, timeoutMs + 5000);
    const { hex, ok: _ok, seq: _seq, ...rest } = result;
    return { ...(rest as unknown as Omit<PeerDatagram, 'data'>), data: Buffer.from(hex as string, 'hex') };
  }

  /** Resolves when no datagram arrives within `waitMs`; rejects PeerError('unexpected') otherwise. */
  async expectNone(waitMs = 200): Promise<void> {
    await this.peer.request({ cmd: 'expect_none', id: this.id, wait: waitMs / 1000 }, waitMs + 5000);
  }

  /** Drops whatever is queued; resolves with how many datagrams that was. */
  async drain(): Promise<number> {
    return (await this.peer.request({ cmd: 'drain', id: this.id })).count as number;
  }

  async close(): Promise<void> {
    await this.peer.request({ cmd: 'close', id: this.id });
  }
}

/** Kills every peer process still running. */
export function stopPeers(): void {
  for (const peer of [...running]) peer.kill();
}
