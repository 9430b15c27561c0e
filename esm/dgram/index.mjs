// The ES module entry of `abyss-transport/dgram`: the CommonJS build's names, as esm/index.mjs
// does for the main entry (one instance for `import` and `require`).
import dgram from './index.js';

export const { UDP, Socket, ContractSocket, RecvArena, TransportError, DgramUDP, DgramSocket } = dgram;
export default dgram;
