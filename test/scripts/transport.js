// What the child scripts of the GC and lifetime tests share. The transport is ABYSS_TRANSPORT's:
// 'UDP' (the default) or 'DgramUDP', whose sockets here do not reuse port 0 (a port another
// process's reusing socket holds; test/helpers/transports.ts).
const path = require('node:path');

const TRANSPORT = process.env.ABYSS_TRANSPORT || 'UDP';
const UDP = require(path.join(__dirname, '..', '..', 'dist'))[TRANSPORT];
/** listen options that keep a DgramUDP socket on port 0 to itself. */
const OWN_PORT = TRANSPORT === 'DgramUDP' ? { reuseaddr: false, reuseport: false } : {};

/** `rounds` forced collections (run with --expose-gc), each followed by a turn of the loop. */
async function collect(rounds) {
  for (let i = 0; i < rounds; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

module.exports = { UDP, OWN_PORT, collect };
