// Worker threads load the compiled facade (dist/), which they cannot take from ts-jest:
// build it once before the suites run.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async function buildDist() {
  const root = path.join(__dirname, '..', '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
};
