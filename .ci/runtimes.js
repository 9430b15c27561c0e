// Judges a jest run under Bun or Deno (.ci/runtimes.sh): every failure must be one this table
// says the runtime cannot pass, and every test the table names must still fail, unless marked
// as failing only on some runs (so the table stays true). Prints `<runtime> <version>: N passed, N failed (N of them listed here)`.
//   node .ci/runtimes.js <results.json> <bun|deno> <version>
'use strict';
const fs = require('node:fs');

// What each runtime cannot do, and why: a failure matches an entry by its test's full name,
// or by the first line of its failure message. `mayPass`: it fails only on some runs.
const CANNOT = {
  bun: [
    {
      message: /listen: this runtime's node:dgram does not bind within the call/,
      why: "Bun's node:dgram binds on a later turn of the event loop (even an IP literal), so DgramUDP's " +
        'listen, which must return a bound socket, is enotsup: every test that needs a socket',
    },
    {
      name: 'the rest of the contract an idle socket does not keep the process alive; a waiting recv does',
      why: 'the same, in the process this test starts (its listen is enotsup, so it exits non-zero)',
    },
  ],
  deno: [
    {
      name: 'listen / open open is listen; a taken port is eaddrinuse from bind, thrown synchronously',
      why: "Deno's node:dgram frees a closed socket's port on a later turn: binding it again right after close is eaddrinuse",
    },
    {
      name: 'recv the queue is bounded by SO_RCVBUF; what it drops is counted in kernel.drops',
      why: "Deno's node:dgram has no internal handle to read the descriptor from (fd is -1), so the kernel's drops " +
        'in /proc/net/udp cannot be found and are missing from getstat; it passes on a run where the kernel drops none',
      mayPass: true,
    },
    {
      name: 'send sendBatch: in order, resolves with the count; a bad message sends nothing',
      why: "Deno's node:dgram sends datagrams queued in one turn in reverse order (d, c, b, a)",
    },
    {
      name: 'connect and peername fixes the peer: send/2 reaches it, peername names it, others are filtered by the kernel',
      why: "Deno's node:dgram connect does not connect the kernel socket: datagrams from other senders still arrive",
    },
    {
      name: 'connect and peername an ICMP port unreachable comes back as econnrefused on the next recv',
      why: "Deno's node:dgram connect does not connect the kernel socket, so no ICMP error is reported to it",
    },
    {
      name: 'connect and peername a refused connect throws the kernel reason synchronously',
      why: "Deno's node:dgram connect does not connect the kernel socket: connecting to 255.255.255.255 without broadcast succeeds",
    },
    {
      name: 'getopts / setopts all or nothing: a bad entry, or a kernel refusal, leaves every option as it was',
      why: "Deno's node:dgram reports leaving a group never joined as einval (the kernel says eaddrnotavail)",
    },
    {
      name: 'the rest of the contract an idle socket does not keep the process alive; a waiting recv does',
      why: "Deno's node:dgram ignores unref(): an idle socket keeps the process alive",
    },
  ],
};

const [file, runtime, version] = process.argv.slice(2);
const results = JSON.parse(fs.readFileSync(file, 'utf8'));
const table = CANNOT[runtime];
const matched = new Set();
const failures = [];
let listed = 0;
for (const suite of results.testResults) {
  if (suite.assertionResults.length === 0 && suite.message) failures.push(`${suite.name}: ${suite.message.split('\n').slice(0, 12).join('\n    ')}`);
  for (const test of suite.assertionResults) {
    const message = test.failureMessages.join('\n');
    const entry = table.find((e) => (e.name !== undefined && e.name === test.fullName) ||
      (e.message !== undefined && e.message.test(message.split('\n')[0])));
    if (test.status === 'failed') {
      if (entry) {
        matched.add(entry);
        listed++;
      } else {
        failures.push(`${suite.name}: ${test.fullName}\n    ${message.split('\n').slice(0, 12).join('\n    ')}`);
      }
    } else if (entry?.name !== undefined && !entry.mayPass) {
      failures.push(`${test.fullName}: listed as impossible under ${runtime}, but it passed: take it off the list in .ci/runtimes.js`);
    }
  }
}
for (const entry of table) {
  if (!matched.has(entry)) console.error(`  (${runtime} passed this time: ${entry.name ?? entry.message})`);
  else console.error(`  cannot run under ${runtime}: ${entry.name ?? 'tests failing ' + entry.message}\n    because ${entry.why}`);
}
for (const failure of failures) console.error(`  ${failure}`);
const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
console.log(`${runtime} ${version}: ${results.numPassedTests} passed, ${failed} failed (${listed} of them listed as impossible there)`);
if (failures.length > 0 || results.numTotalTests === 0 || results.numPassedTests === 0) process.exit(1);
