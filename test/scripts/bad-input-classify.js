// What one call did, as plain JSON: threw / returned / rejected / resolved / still pending,
// and what the error was. Shared by bad-input-runner.js and bad-input-worker.js.
const path = require('node:path');
const { types } = require('node:util');
const { TransportError, Socket } = require(path.join(__dirname, '..', '..', 'dist'));

function show(value) {
  try {
    if (typeof value === 'symbol' || typeof value === 'bigint' || typeof value === 'function') return String(value);
    if (value instanceof Socket) return '[Socket]';
    if (Array.isArray(value) && value.some((item) => item instanceof Socket)) return '[Socket, ...]';
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function describeError(error) {
  if (typeof error !== 'object' || error === null) return { transport: false, native: false, thrown: show(error) };
  return {
    transport: error instanceof TransportError,
    native: types.isNativeError(error),
    isError: error instanceof Error,
    name: String(error.name),
    ctor: error.constructor && error.constructor.name,
    reason: error.reason,
    code: error.code,
    syscall: error.syscall,
    message: String(error.message).slice(0, 300),
  };
}

/** Sockets a call returned (a bad call that succeeded) are handed to `dispose`. */
function disposeSockets(value, dispose) {
  for (const item of Array.isArray(value) ? value : [value]) if (item instanceof Socket) dispose(item);
}

/**
 * Calls `call` once and reports what it did. A promise is given `limit` ms to settle; one
 * still pending is reported as such (its rejection, once the fixtures are closed, is caught).
 */
async function classify(call, limit, dispose) {
  let returned;
  try {
    returned = call();
  } catch (error) {
    return { mode: 'threw', error: describeError(error) };
  }
  if (returned === null || (typeof returned !== 'object' && typeof returned !== 'function') || typeof returned.then !== 'function') {
    disposeSockets(returned, dispose);
    return { mode: 'returned', value: show(returned) };
  }
  const settled = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ state: 'pending' }), limit);
    Promise.resolve(returned).then(
      (value) => { clearTimeout(timer); resolve({ state: 'fulfilled', value }); },
      (error) => { clearTimeout(timer); resolve({ state: 'rejected', error }); },
    );
  });
  if (settled.state === 'pending') return { mode: 'pending' };
  if (settled.state === 'rejected') return { mode: 'rejected', error: describeError(settled.error) };
  disposeSockets(settled.value, dispose);
  return { mode: 'resolved', value: show(settled.value) };
}

module.exports = { classify, describeError, show };
