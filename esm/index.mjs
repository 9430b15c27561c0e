// The ES module entry of the package (package.json "exports" → "import"). It re-exports the
// CommonJS build, so `import` and `require` share one instance of the addon and its state.
// Copied next to dist/index.js by `npm run build:ts` (it lives outside lib/ so that jest,
// which resolves '../lib' to index.mjs before index.ts, keeps loading the TypeScript). The
// names are listed rather than `export *`-ed so `__esModule` does not become one;
// .ci/pack.sh fails if this list and the CommonJS exports differ.
import abyss from './index.js';

export const { UDP, Socket, ContractSocket, RecvArena, TransportError, DgramUDP, DgramSocket } = abyss;
export default abyss;
