import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Jest evaluates the package once per test file, each in its own realm, while the process loads
// the addon once: a user's test suite is exactly this situation. Every failure must still be a
// TransportError, an Error of the realm that catches it (README, Errors). The child process
// reproduces it deterministically with two vm realms (test/scripts/realms-child.js).
test('errors are instanceof TransportError and Error in every realm that loaded the package', async () => {
  const { stdout } = await run(process.execPath, [path.join(__dirname, 'scripts', 'realms-child.js')], { timeout: 15000 });
  const expected = {
    native: { reason: 'enotconn', name: 'TransportError', instanceofTransportError: true, instanceofError: true },
    facade: { reason: 'badarg', name: 'TransportError', instanceofTransportError: true, instanceofError: true },
    adopt: { reason: 'enotsock', name: 'TransportError', instanceofTransportError: true, instanceofError: true },
    bind: { reason: 'eaddrinuse', name: 'TransportError', instanceofTransportError: true, instanceofError: true },
  };
  expect(JSON.parse(stdout)).toEqual({ first: expected, second: expected });
});
