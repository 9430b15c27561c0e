/**
 * Load soak: test/scripts/soak.js runs, in a process of its own, concurrent recv / recvBatch /
 * aborted recv / send / sendBatch / setopts / getopts / getstat on one socket fed by a separate
 * node:dgram process, for ABYSS_SOAK_SECONDS (default 60). This checks what it reports:
 * getstat's counters equal what the calls returned and sent, every datagram sent to the socket
 * is accounted for, nothing was corrupted or delivered twice, no error, no unhandled rejection,
 * no timer left behind, and a clean exit.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const SECONDS = Number(process.env.ABYSS_SOAK_SECONDS ?? 60);
const SCRIPT = path.join(__dirname, 'scripts', 'soak.js');

interface Counters { [key: string]: number }
interface Report {
  seconds: number;
  loadSeconds: number;
  stats: Counters & { kernel: Counters };
  got: Counters;
  sent: Counters;
  calls: Counters;
  external: { sent: number; bytes: number; errors: Record<string, number>; attempted: number };
  accounting: Counters;
  problems: string[];
  unhandled: string[];
  uncaught: string[];
  timers: { before: number; after: number };
  resources: { before: string[]; after: string[] };
}

function runSoak(): Promise<{ code: number | null; signal: string | null; report?: Report; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, ABYSS_SOAK_SECONDS: String(SECONDS) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += String(chunk); });
    child.stderr.on('data', (chunk) => { output += String(chunk); });
    // Bounded: a soak that does not finish within its time and a margin is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 25) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.startsWith('SOAK-REPORT '));
      resolve({ code, signal, report: line ? JSON.parse(line.slice('SOAK-REPORT '.length)) : undefined, output });
    });
  });
}

let result: Awaited<ReturnType<typeof runSoak>>;
let report: Report;

beforeAll(async () => {
  result = await runSoak();
  if (result.report) {
    report = result.report;
    const { stats, got, sent, calls, external, accounting } = report;
    const rate = (n: number): string => `${Math.round(n / report.loadSeconds)}/s`;
    console.log(
      `soak ${report.loadSeconds.toFixed(1)} s: received ${got.datagrams} (${rate(got.datagrams)}; recv ${got.viaRecv}, recvBatch ${got.viaRecvBatch}, aborted-recv ${got.viaAborted}), ` +
      `sent ${sent.datagrams} to itself (send ${sent.viaSend}, sendBatch ${sent.viaSendBatch} in ${sent.batches} batches), peer sent ${external.sent}; ` +
      `received from the peer ${got.external}, from itself ${got.self}; kernel drops ${stats.kernel.drops}, missing ${accounting.missing}; ` +
      `calls ${JSON.stringify(calls)}`,
    );
  }
}, (SECONDS + 30) * 1000);

describe(`load soak (${SECONDS} s, ABYSS_SOAK_SECONDS)`, () => {
  test('runs to the end and exits cleanly', () => {
    if (!result.report) throw new Error(`no report (exit ${result.code}, signal ${result.signal}):\n${result.output.slice(-3000)}`);
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
    expect(report.loadSeconds).toBeGreaterThanOrEqual(SECONDS);
  });

  test('getstat recv_cnt / recv_oct equal the datagrams and bytes recv and recvBatch returned', () => {
    expect({ recv_cnt: report.stats.recv_cnt, recv_oct: report.stats.recv_oct })
      .toEqual({ recv_cnt: report.got.datagrams, recv_oct: report.got.bytes });
  });

  test('getstat send_cnt / send_oct equal what send and sendBatch reported sent; nothing pending', () => {
    expect({ send_cnt: report.stats.send_cnt, send_oct: report.stats.send_oct, send_pend: report.stats.send_pend })
      .toEqual({ send_cnt: report.sent.datagrams, send_oct: report.sent.bytes, send_pend: 0 });
  });

  test('every datagram sent to the socket was received or counted as a kernel drop', () => {
    const { accounting } = report;
    expect(accounting.leftInQueue).toBe(0);
    expect(accounting.externalReceived + accounting.selfReceived).toBe(accounting.received);
    // Loopback loses datagrams only at the socket (kernel.drops) or, rarely, in a CPU's input
    // backlog (softnet_stat, machine-wide): nothing else may go missing, nothing may appear.
    expect(accounting.missing).toBeGreaterThanOrEqual(0);
    expect(accounting.missing).toBeLessThanOrEqual(accounting.softnetDrops);
    expect(report.got.external).toBeLessThanOrEqual(report.external.sent);
    expect(report.got.self).toBeLessThanOrEqual(report.sent.datagrams);
  });

  test('no datagram was corrupted, delivered twice or attributed to the wrong sender', () => {
    expect({ corrupt: report.got.corrupt, duplicates: report.got.duplicates, wrongSender: report.got.wrongSender })
      .toEqual({ corrupt: 0, duplicates: 0, wrongSender: 0 });
  });

  test('every kind of call ran, concurrently, throughout', () => {
    const { calls, got, sent } = report;
    for (const key of ['recv', 'recvBatch', 'aborted', 'send', 'sendBatch', 'setopts', 'getopts', 'getstat']) {
      expect({ [key]: calls[key] > 0 }).toEqual({ [key]: true });
    }
    expect(got.viaRecv).toBeGreaterThan(0);
    expect(got.viaRecvBatch).toBeGreaterThan(0);
    expect(got.truncated).toBeGreaterThan(0);
    expect(got.withAncillary).toBeGreaterThan(0);
    expect(sent.viaSend).toBeGreaterThan(0);
    expect(sent.gsoBatches).toBeGreaterThan(0);
    expect(report.external.sent).toBeGreaterThan(0);
  });

  test('no errors, no unhandled rejections, no uncaught exceptions', () => {
    expect(report.problems).toEqual([]);
    expect(report.unhandled).toEqual([]);
    expect(report.uncaught).toEqual([]);
  });

  test('no timers or handles left behind once the socket is closed', () => {
    expect(report.timers.after).toBe(report.timers.before);
    expect(report.resources.after).toEqual(report.resources.before);
  });
});
