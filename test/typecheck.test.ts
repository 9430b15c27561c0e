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

test("the README's code blocks type-check under strict, each on its own", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'abyss-readme-'));
  try {
    // `require('abyss-transport')` and `import … from 'abyss-transport'` find this checkout.
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(root, path.join(dir, 'node_modules', 'abyss-transport'));
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
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
