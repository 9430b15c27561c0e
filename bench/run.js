#!/usr/bin/env node
// `npm run bench`: this package against node:dgram (and both against C) on this machine, in
// one run. Every measured side runs in a process of its own; CPU is the process's CPU time.
//   --size N        datagram size for receive, send and echo (default 64)
//   --duration S    seconds per throughput case (default 3)
//   --cases LIST    recv,send,echo,gso,gro (default all)
//   --quick         1 second per case, fewer round trips
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');

const root = path.join(__dirname, '..');
const bin = path.join(__dirname, 'bin', 'udpbench');
const cases = path.join(__dirname, 'cases.js');

function options() {
  const argv = process.argv.slice(2);
  const value = (name, fallback) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : fallback;
  };
  const quick = argv.includes('--quick');
  const chosen = {
    size: Number(value('size', 64)),
    duration: Number(value('duration', quick ? 1 : 3)),
    cases: value('cases', 'recv,send,echo,gso,gro').split(','),
    pings: quick ? 2000 : 10000,
  };
  if (!(chosen.size >= 1 && chosen.size <= 65000) || !(chosen.duration > 0)) {
    console.error('usage: npm run bench -- [--size 1..65000] [--duration SECONDS] [--cases recv,send,echo,gso,gro] [--quick]');
    process.exit(2);
  }
  return chosen;
}

function prepare() {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
    progress('compiling the TypeScript facade');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  }
  const source = path.join(__dirname, 'c', 'udpbench.c');
  if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < fs.statSync(source).mtimeMs) {
    progress('building the C reference (cc -O2)');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', bin, source], { stdio: 'inherit' });
  }
}

function progress(text) {
  process.stderr.write(`[bench] ${text}\n`);
}

const children = new Set();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

/** Starts a process; `first()` is its first JSON line, `last()` its final one. */
function start(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let lastLine;
  return {
    child,
    async first() {
      const { value } = await lines.next();
      return JSON.parse(value);
    },
    async last() {
      for await (const line of lines) lastLine = line;
      await exited;
      children.delete(child);
      if (!lastLine) throw new Error(`${path.basename(command)} ${args.join(' ')} printed nothing`);
      return JSON.parse(lastLine);
    },
  };
}

const node = (role, impl, ...args) => start(process.execPath, [cases, role, impl, ...args.map(String)]);
const c = (...args) => start(bin, args.map(String));

async function receiveCase(impl, { duration, size }) {
  const receiver = impl === 'c' ? c('sink', 30) : node('receive', impl);
  const { port } = await receiver.first();
  const sender = c('flood', port, duration, size);
  const { sent } = await sender.last();
  const got = await receiver.last();
  return { sent, received: got.received, pps: got.received / got.seconds, nsPerDatagram: (got.cpu / got.received) * 1e9, loss: 1 - got.received / sent };
}

async function sendCase(impl, { duration, size }) {
  const sink = c('sink', 30);
  const { port } = await sink.first();
  const sender = impl === 'c' ? c('send', port, duration, size) : node('send', impl, port, duration, size);
  const sent = await sender.last();
  const got = await sink.last();
  return { sent: sent.sent, received: got.received, pps: sent.sent / sent.seconds, nsPerDatagram: (sent.cpu / sent.sent) * 1e9 };
}

async function echoCase(impl, { size, pings }) {
  const echo = c('echo');
  const { port } = await echo.first();
  const client = impl === 'c' ? c('ping', port, pings, size) : node('ping', impl, port, pings, size);
  const result = await client.last();
  echo.child.kill();
  return result;
}

async function gsoCase(impl, { duration }) {
  const segment = 1400;
  const sink = c('sink', 30, 'gro');
  const { port } = await sink.first();
  const sender = impl === 'c' ? c('gso', port, duration, segment) : node('send', 'gso', port, duration, segment);
  const sent = await sender.last();
  const got = await sink.last();
  return { gbps: (sent.bytes * 8) / sent.seconds / 1e9, receivedGbps: (got.bytes * 8) / Math.max(got.seconds, 1e-9) / 1e9, cpu: sent.cpu };
}

async function groCase(impl, { duration }) {
  const receiver = impl === 'c' ? c('sink', 30, 'gro') : node('receive', 'gro');
  const { port } = await receiver.first();
  const sender = c('gso', port, duration, 1400);
  const sent = await sender.last();
  const got = await receiver.last();
  return { gbps: (got.bytes * 8) / got.seconds / 1e9, loss: 1 - got.bytes / sent.bytes, cpu: got.cpu };
}

const PLAN = {
  recv: { title: 'receive (C flood)', run: receiveCase, impls: ['recv', 'recvBatch', 'dgram', 'c'], metric: 'nsPerDatagram' },
  send: { title: 'send (to a C sink)', run: sendCase, impls: ['send', 'sendBatch', 'dgram', 'c'], metric: 'nsPerDatagram' },
  echo: { title: 'echo round trip', run: echoCase, impls: ['udp', 'dgram', 'c'], metric: 'p50' },
  gso: { title: 'GSO send, 1400-byte segments', run: gsoCase, impls: ['udp', 'c'], metric: 'gbps' },
  gro: { title: 'GRO receive, 1400-byte segments', run: groCase, impls: ['udp', 'c'], metric: 'gbps' },
};

const LABELS = { recv: 'UDP.recv', recvBatch: 'UDP.recvBatch', send: 'UDP.send', sendBatch: 'UDP.sendBatch', udp: 'abyss-transport', dgram: 'node:dgram', c: 'C' };

function format(group, impl, result, results) {
  const dgram = results.dgram;
  const cRef = results.c;
  const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '-');
  if (group === 'recv' || group === 'send') {
    return [LABELS[impl], `${Math.round(result.pps).toLocaleString('en')} pps`, `${Math.round(result.nsPerDatagram)} ns CPU/dgram`,
      group === 'recv' ? `loss ${(result.loss * 100).toFixed(1)}%` : '', `vs dgram ${ratio(result.nsPerDatagram, dgram?.nsPerDatagram)}`,
      `vs C ${ratio(result.nsPerDatagram, cRef?.nsPerDatagram)}`];
  }
  if (group === 'echo') {
    return [LABELS[impl], `p50 ${result.p50.toFixed(1)} µs`, `p99 ${result.p99.toFixed(1)} µs`, '', `vs dgram ${ratio(result.p50, dgram?.p50)}`, `vs C ${ratio(result.p50, cRef?.p50)}`];
  }
  return [LABELS[impl], `${result.gbps.toFixed(2)} Gbit/s`, `CPU ${result.cpu.toFixed(2)} s`, result.loss !== undefined ? `loss ${(result.loss * 100).toFixed(1)}%` : '', '', `vs C ${ratio(result.gbps, cRef?.gbps)}`];
}

function svg(report) {
  const rows = [];
  for (const [group, results] of Object.entries(report.results)) {
    const { metric, title } = PLAN[group];
    for (const [impl, result] of Object.entries(results)) rows.push({ group: title, impl: LABELS[impl], value: result[metric], metric });
  }
  const unit = { nsPerDatagram: 'ns CPU per datagram (lower is better)', p50: 'µs p50 round trip (lower is better)', gbps: 'Gbit/s (higher is better)' };
  const width = 900;
  const bar = 22;
  let y = 40;
  const parts = [];
  let group;
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      y += 14;
      parts.push(`<text x="10" y="${y}" font-weight="bold">${group}: ${unit[row.metric]}</text>`);
      y += 8;
    }
    const peers = rows.filter((r) => r.group === row.group);
    const max = Math.max(...peers.map((r) => r.value || 0)) || 1;
    const length = Math.max(1, ((row.value || 0) / max) * (width - 330));
    const colour = row.impl === 'node:dgram' ? '#999' : row.impl === 'C' ? '#444' : '#2a7ab9';
    parts.push(`<text x="10" y="${y + 16}">${row.impl}</text><rect x="160" y="${y + 3}" width="${length.toFixed(1)}" height="${bar - 6}" fill="${colour}"/>` +
      `<text x="${(165 + length).toFixed(1)}" y="${y + 16}">${(row.value ?? 0).toFixed(row.metric === 'gbps' ? 2 : 1)}</text>`);
    y += bar;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 30}" font-family="sans-serif" font-size="13">` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="16">abyss-transport vs node:dgram vs C, ${report.options.size}-byte datagrams, ${report.date}</text>${parts.join('')}</svg>\n`;
}

async function main() {
  const chosen = options();
  prepare();
  const report = { date: new Date().toISOString(), node: process.version, cpus: require('node:os').cpus().length, options: chosen, results: {} };
  for (const group of chosen.cases) {
    const plan = PLAN[group];
    if (!plan) throw new Error(`unknown case ${group}`);
    report.results[group] = {};
    for (const impl of plan.impls) {
      progress(`${plan.title}: ${LABELS[impl]} …`);
      try {
        report.results[group][impl] = await plan.run(impl, chosen);
      } catch (error) {
        progress(`${plan.title}: ${LABELS[impl]} failed: ${error.message}`);
        report.results[group][impl] = { error: error.message };
      }
    }
  }
  console.log(`\nabyss-transport benchmark, ${chosen.size}-byte datagrams, ${chosen.duration} s per case, node ${process.version}\n`);
  for (const [group, results] of Object.entries(report.results)) {
    console.log(PLAN[group].title);
    for (const [impl, result] of Object.entries(results)) {
      const columns = result.error ? [LABELS[impl], `unavailable: ${result.error}`] : format(group, impl, result, results);
      console.log(`  ${columns.map((column, index) => column.padEnd([16, 18, 22, 12, 18, 12][index] ?? 0)).join(' ')}`);
    }
    console.log('');
  }
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(out, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'latest.svg'), svg(report));
  console.log(`wrote bench/results/${stamp}.json, bench/results/latest.json and bench/results/latest.svg`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
