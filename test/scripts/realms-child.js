// Loads the compiled package (dist/) into two fresh vm realms the way jest loads it into each
// test file: JavaScript evaluated per realm, Node built-ins and node_modules (and with them the
// addon, which a process loads once) taken from the host. Then makes, in each realm, one error
// built by the native side (peername of an unconnected socket; adopting a descriptor that is
// not a socket; a bind on a taken port) and one built by the facade (a badarg), and reports
// how each realm sees them, as one JSON line.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const DIST = path.join(__dirname, '..', '..', 'dist');

function realm() {
  const context = vm.createContext({
    process, Buffer, console, setTimeout, clearTimeout, setImmediate, clearImmediate, queueMicrotask, AbortSignal, AbortController,
  });
  const cache = new Map();
  function load(file) {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    const wrapper = vm.runInContext(Module.wrap(fs.readFileSync(file, 'utf8')), context, { filename: file });
    const localRequire = (id) => {
      if (id.startsWith('node:') || Module.isBuiltin(id)) return require(id);
      const resolved = require.resolve(id, { paths: [path.dirname(file)] });
      return resolved.startsWith(DIST + path.sep) ? load(resolved) : require(resolved);
    };
    wrapper.call(module.exports, module.exports, localRequire, module, file, path.dirname(file));
    return module.exports;
  }
  const pkg = load(path.join(DIST, 'index.js'));
  const isError = vm.runInContext('(value) => value instanceof Error', context);
  return { pkg, isError };
}

function probe({ pkg, isError }) {
  const { UDP, TransportError } = pkg;
  const socket = UDP.listen(0, { ip: '127.0.0.1', reuseaddr: false, reuseport: false });
  const seen = {};
  const file = fs.openSync(__filename, 'r');
  const calls = [
    ['native', () => UDP.peername(socket)],
    ['facade', () => UDP.listen(-1)],
    // Before any socket exists: adopting a descriptor that is not a socket.
    ['adopt', () => UDP.close(UDP.listen(0, { fd: file }))],
    ['bind', () => UDP.close(UDP.listen(UDP.sockname(socket).port, { ip: '127.0.0.1', reuseaddr: false, reuseport: false }))],
  ];
  for (const [kind, call] of calls) {
    try {
      call();
      seen[kind] = { thrown: false };
    } catch (error) {
      seen[kind] = {
        reason: error.reason,
        name: error.name,
        instanceofTransportError: error instanceof TransportError,
        instanceofError: isError(error),
      };
    }
  }
  UDP.close(socket);
  try {
    fs.closeSync(file);
  } catch {
    // closed by a failed adoption
  }
  return seen;
}

const first = realm();
const second = realm();
process.stdout.write(`${JSON.stringify({ first: probe(first), second: probe(second) })}\n`);
