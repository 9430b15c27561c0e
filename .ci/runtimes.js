// Judges a jest run under Bun or Deno (.ci/runtimes.sh): every failure must be one this table
// says the runtime cannot pass, and every test the table names must still fail, unless marked
// as failing only on some runs (so the table stays true). Prints `<runtime> <version>: N passed, N failed (N of them listed here)`.
//   node .ci/runtimes.js <results.json> <bun|deno> <version>
'use strict';
const fs = require('node:fs');

// What each runtime cannot do, and why: a failure matches an entry by its test's full name
// (`name`), by a pattern over it (`names`), or by the first line of its failure message
// (`message`). `mayPass`: it fails only on some runs. An entry by exact name must fail.
const DGRAM_HALF = /^DgramUDP[ :]/;
const CANNOT = {
  bun: [
    {
      message: /listen: this runtime's node:dgram does not bind within the call/,
      why: "Bun's node:dgram binds on a later turn of the event loop (even an IP literal), so DgramUDP's " +
        'listen, which must return a bound socket, is enotsup: every test that needs a socket',
    },
    {
      names: DGRAM_HALF,
      mayPass: true,
      why: 'the suites run each case on DgramUDP too, and its listen is enotsup under Bun (above); those that ' +
        'fail another way first still need a bound socket',
    },
    {
      name: 'the rest of the contract an idle socket does not keep the process alive; a waiting recv does',
      why: 'the same, in the process this test starts (its listen is enotsup, so it exits non-zero)',
    },
    {
      name: 'host names resolve in the socket\'s family for send and sendBatch (nxdomain when they do not); the synchronous calls take localhost only',
      why: 'the script this test runs goes through both transports, and DgramUDP\'s listen is enotsup under Bun',
    },
    {
      name: 'a system call interrupted by a signal (EINTR) is retried: every call still does exactly its work',
      why: "the LD_PRELOAD shim does intercept the addon's calls under Bun (LD_DEBUG=bindings), but Bun leaves the " +
        "process with exit_group and runs no library destructor, so the shim's report is never written (strace)",
    },
    {
      name: 'a read that fails when the socket turns readable rejects the waiting recv with its reason, and the datagram stays for the next',
      why: 'the same shim and report as the EINTR test',
    },
  ],
  deno: [
    {
      names: DGRAM_HALF,
      mayPass: true,
      why: "the suites run each case on DgramUDP too, and Deno's node:dgram differs from Node's in the ways " +
        'test/dgram-transport.test.ts shows one by one below (reverse send order, a connect that does not ' +
        'connect the kernel socket, a port freed on a later turn, unref ignored, no descriptor)',
    },
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
      name: 'controllingProcess and adopt a hand-over under traffic loses and duplicates no datagram',
      why: "the sending peer is Deno's node:dgram, which sends the datagrams queued in one turn in reverse order: " +
        'all 2000 arrive once each, but not in the order sent',
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
    {
      name: 'controllingProcess and adopt an unknown or exited thread is badarg and the socket stays usable',
      why: "Deno's Worker keeps its threadId after it exits (Node sets it to -1), so an exited Worker that never loaded " +
        'the package (this one) cannot be told from a live one that has not loaded it yet, which a hand-over must accept',
    },
    {
      names: /controllingProcess: owner is a Worker that has exited → badarg$/,
      why: 'the same, in the bad-input matrix',
    },
    {
      name: 'controllingProcess and adopt a worker terminated while it waits closes its sockets and disturbs nothing else',
      why: "Deno's worker.terminate() resolves before the worker's environment is torn down: its sockets are closed " +
        'about 10 ms later (checked by hand), not when the promise resolves as under Node',
    },
    {
      name: 'Writing a server (examples/server.js) answers each client in upper case from its port, and on SIGINT closes the socket, ends its loop and exits 0',
      why: "Deno's child_process reports a child that handled SIGINT and exited 0 as killed by SIGINT (exit code null)",
    },
    {
      name: 'Timestamps (examples/timestamps.js) prints each datagram with the kernel\'s receive time as a date, between the send and the read',
      why: 'the same: the example exits 0 on SIGINT, and Deno reports it killed by the signal',
    },
    {
      names: /^Using several cores \(examples\/multicore-server\.js\)/,
      why: "Deno's Worker loads the example's own CommonJS file as an ES module, where `module` is not defined",
    },
    {
      name: 'UDP: port 0 port 0 gets a port of its own, never one that reusing node:dgram sockets already hold (IPv4 and IPv6)',
      why: "the test runs process.execPath through a shell (unshare), out of reach of Deno's child_process, which " +
        "turns node's command line into deno run's; deno itself wants `run` before a script",
    },
    {
      name: 'host names resolve in the socket\'s family for send and sendBatch (nxdomain when they do not); the synchronous calls take localhost only',
      why: 'the same: process.execPath run through a shell (unshare)',
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
      (e.names !== undefined && e.names.test(test.fullName)) ||
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
  const what = entry.name ?? (entry.names ? `tests named ${entry.names}` : `tests failing ${entry.message}`);
  if (!matched.has(entry)) console.error(`  (${runtime} passed this time: ${what})`);
  else console.error(`  cannot run under ${runtime}: ${what}\n    because ${entry.why}`);
}
for (const failure of failures) console.error(`  ${failure}`);
const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
console.log(`${runtime} ${version}: ${results.numPassedTests} passed, ${failed} failed (${listed} of them listed as impossible there)`);
if (failures.length > 0 || results.numTotalTests === 0 || results.numPassedTests === 0) process.exit(1);
