// Worker threads load the compiled facade (dist/), which they cannot take from ts-jest, and
// test/entries.test.ts loads it through the package's exports, ES module entries included:
// build it once before the suites run, as `npm run build:ts` does.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function buildDist() {
  const root = path.join(__dirname, '..', '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  fs.cpSync(path.join(root, 'esm'), path.join(root, 'dist'), { recursive: true });
};
