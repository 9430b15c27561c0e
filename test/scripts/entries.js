// What the package's three entries give this process, resolved through the package's own
// "exports" (a self-reference: this file lies inside the package it requires), from
// require and from import. Where the main entry is not native it also runs its UDP through a
// round trip with a node:dgram socket and tries what only the addon can do. Prints one JSON
// line of facts; test/entries.test.ts judges them.
'use strict';
const dgram = require('node:dgram');

/** What a thrown value says, in plain data. */
function describe(error) {
  if (!(error instanceof Error)) return { threw: String(error) };
  return {
    name: error.name,
    reason: error.reason,
    message: error.message,
    isTransportError: error instanceof main.TransportError,
    cause: error.cause instanceof Error ? error.cause.message.split('\n')[0] : undefined,
  };
}

function attempt(fn) {
  try {
    fn();
    return { returned: true };
  } catch (error) {
    return describe(error);
  }
}

async function settle(promise) {
  try {
    await promise;
    return { resolved: true };
  } catch (error) {
    return describe(error);
  }
}

/** A datagram each way between `UDP` and a node:dgram socket on loopback. */
async function roundTrip(UDP) {
  const socket = UDP.open(0, { ip: '127.0.0.1' });
  const peer = dgram.createSocket('udp4');
  await new Promise((resolve) => peer.bind(0, '127.0.0.1', resolve));
  const heard = new Promise((resolve) => peer.once('message', (data, from) => resolve({ data: String(data), port: from.port })));
  await UDP.send(socket, '127.0.0.1', peer.address().port, ['ping ', Buffer.from('from UDP')]);
  const atPeer = await heard;
  peer.send('pong from node:dgram', UDP.sockname(socket).port, '127.0.0.1');
  const got = await UDP.recv(socket, 0, 5000);
  const result = {
    atPeer: atPeer.data,
    peerSawPort: atPeer.port === UDP.sockname(socket).port,
    atUDP: String(got.data),
    from: `${got.address}:${got.port === peer.address().port}`,
    socketClass: socket.constructor.name,
  };
  UDP.close(socket);
  peer.close();
  return result;
}

/** What only the addon can do, asked of `UDP`. */
async function addonOnly(UDP) {
  const socket = UDP.open(0, { ip: '127.0.0.1' });
  const result = {
    listenRecvttl: attempt(() => UDP.close(UDP.listen(0, { ip: '127.0.0.1', recvttl: true }))),
    localSocket: attempt(() => UDP.close(UDP.listen(0, { ip: { local: '' } }))),
    errorQueue: attempt(() => UDP.recvErrorQueue(socket)),
    sendWithTtl: await settle(UDP.send(socket, '127.0.0.1', UDP.sockname(socket).port, { ttl: 3 }, 'x')),
  };
  UDP.close(socket);
  return result;
}

let main;
async function run() {
  main = require('abyss-transport');
  const dgramEntry = require('abyss-transport/dgram');
  const facts = {
    runtime: process.versions.bun ? 'bun' : process.versions.deno ? 'deno' : 'node',
    isNative: main.isNative,
    nativeUnavailable: main.nativeUnavailable === undefined ? undefined : describe(main.nativeUnavailable),
    mainIsDgram: main.UDP === main.DgramUDP && main.Socket === main.DgramSocket,
    dgramEntryIsDgram: dgramEntry.UDP === main.DgramUDP && dgramEntry.Socket === main.DgramSocket &&
      dgramEntry.TransportError === main.TransportError,
  };
  try {
    const native = require('abyss-transport/native');
    facts.nativeEntry = { loaded: true, isMain: native.UDP === main.UDP && native.Socket === main.Socket };
    // What the addon's UDP can be asked that DgramUDP, standing in for it elsewhere, could not answer.
    facts.dgramLacks = Object.keys(native.UDP).filter((name) => typeof main.DgramUDP[name] !== 'function');
  } catch (error) {
    facts.nativeEntry = describe(error);
  }
  const esm = await import('abyss-transport');
  const esmDgram = await import('abyss-transport/dgram');
  facts.esm = {
    sameAsRequire: esm.default === main && esm.UDP === main.UDP && esm.isNative === main.isNative &&
      esm.nativeUnavailable === main.nativeUnavailable,
    dgram: esmDgram.UDP === main.DgramUDP,
  };
  facts.esmNative = await import('abyss-transport/native').then(
    (native) => ({ loaded: true, isMain: native.UDP === main.UDP }),
    (error) => describe(error),
  );
  if (!main.isNative) {
    // Under Bun the first listen already fails (its node:dgram binds on a later turn): reported as thrown.
    facts.roundTrip = await roundTrip(main.UDP).catch(describe);
    facts.addonOnly = await addonOnly(main.UDP).catch(describe);
  }
  console.log(JSON.stringify(facts));
}

run().catch((error) => {
  console.error(error);
  process.exit(1);
});
