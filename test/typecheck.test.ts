/**
 * What a TypeScript user gets, checked as one would write it: the README's js and ts code
 * blocks and every file of examples/, under `strict`, against the compiled types (dist/),
 * resolved as the installed package resolves them.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(__dirname, '..');

function typeErrors(files: string[], dir: string): string {
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, allowJs: true, checkJs: true, target: 'ES2022', module: 'commonjs', moduleResolution: 'node',
      lib: ['ES2022', 'ESNext.Disposable'], types: ['node'], typeRoots: [path.join(root, 'node_modules', '@types')], skipLibCheck: false,
    },
    files,
  }));
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout);
  }
}

/**
 * Runs `use` in a new directory where `require('abyss-transport')` and `import … from
 * 'abyss-transport'` find this checkout, and removes the directory after.
 */
function inConsumerDir<T>(prefix: string, use: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(root, path.join(dir, 'node_modules', 'abyss-transport'));
    return use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The type errors of one TypeScript file with `source`, written as a consumer of the package. */
function sourceErrors(name: string, source: string): string {
  return inConsumerDir(`abyss-${name}-`, (dir) => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, source);
    return typeErrors([file], dir);
  });
}

test("the README's code blocks type-check under strict, each on its own", () => {
  inConsumerDir('abyss-readme-', (dir) => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/^```(js|ts)\n([\s\S]*?)^```$/gm)];
    expect(blocks.length).toBeGreaterThan(0);
    const files = blocks.map(([, language, code], index) => {
      const file = path.join(dir, `block${index}.${language}`);
      // Each block is a module of its own: its names do not meet another block's.
      fs.writeFileSync(file, `${code}\nexport {};\n`);
      return file;
    });
    expect(typeErrors(files, dir)).toBe('');
  });
});

test('examples/ type-check under strict', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-examples-'));
  try {
    const examples = fs.readdirSync(path.join(root, 'examples')).filter((name) => /\.(js|ts)$/.test(name));
    expect(typeErrors(examples.map((name) => path.join(root, 'examples', name)), dir)).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the hand-over token is opaque: adopt takes socket.handoff or a posted copy, nothing else, and shows none of its fields', () => {
  expect(sourceErrors('handoff', `
      import { UDP, type SocketHandoff, type SocketRef } from 'abyss-transport';
      import { parentPort, Worker } from 'node:worker_threads';
      export function give(worker: Worker): void {
        const socket = UDP.listen(0);
        UDP.controllingProcess(socket, worker);
        const handoff: SocketHandoff = socket.handoff;
        const old: SocketRef = handoff;
        worker.postMessage({ handoff, old });
        // @ts-expect-error its fields are the package's own
        void handoff.abyssSocket;
        // @ts-expect-error a socket is not its hand-over token
        UDP.adopt(socket);
        // @ts-expect-error nor is any object
        UDP.adopt({ abyssSocket: 1, carry: [] });
      }
      parentPort?.on('message', (message: { handoff: SocketHandoff }) => UDP.adopt(message.handoff).close());
      parentPort?.on('message', (message) => UDP.adopt(message.handoff).close());
    `)).toBe('');
});

test("listen's socket type follows its options: IP unless they name a unix path, options typed any included", () => {
  expect(sourceErrors('listen', `
      import { UDP, type ListenOptions, type Socket } from 'abyss-transport';
      export function open(config: any, options: ListenOptions): void {
        const port: number = UDP.sockname(UDP.listen(0, config)).port;
        const loopback: number = UDP.listen(0, { ip: 'loopback' }).sockname().port;
        const path: string = UDP.listen(0, { ip: { local: '/tmp/a.sock' } }).sockname().local;
        const local: Socket<'local'> = UDP.open(0, { family: 'local' });
        // @ts-expect-error options that may name either give a socket of either family
        const either: number = UDP.listen(0, options).sockname().port;
        void [port, loopback, path, local, either];
      }
    `)).toBe('');
});
