// The ES module entry of the package (package.json "exports" → "import"). It re-exports the
// CommonJS build, so `import` and `require` share one instance of the addon and its state.
// Copied next to dist/index.js by `npm run build:ts`, as esm/dgram and esm/native are into
// dist/dgram and dist/native (they live outside lib/ so that jest, which resolves '../lib' to
// index.mjs before index.ts, keeps loading the TypeScript; beside each index.js, never as
// dist/dgram.mjs, which jest would take for require('./dgram')). The
// names are listed rather than `export *`-ed so `__esModule` does not become one;
// .ci/pack.sh fails if this list and the CommonJS exports differ.
import abyss from './index.js';

export const { isNative, nativeUnavailable, UDP, Socket, ContractSocket, RecvArena, TransportError, DgramUDP, DgramSocket } = abyss;
export default abyss;
