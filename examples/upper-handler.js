// A handler for multicore-server.js: answers each datagram in upper case, with the worker's index.
/**
 * @param {import('..').RecvData} datagram
 * @param {number} worker
 */
exports.handle = (datagram, worker) => `${worker}:${datagram.data.toString().toUpperCase()}`;
