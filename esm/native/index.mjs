// The ES module entry of `abyss-transport/native`: the CommonJS build's names, as esm/index.mjs
// does for the main entry (one instance for `import` and `require`). Where the addon cannot
// run, importing this throws its enotsup error. The build is required rather than imported:
// Node 20 reports a CommonJS module that throws under an import() both as the import's
// rejection and as an uncaught exception, which would end the process.
import { createRequire } from 'node:module';

const native = createRequire(import.meta.url)('./index.js');

export const { UDP, Socket, ContractSocket, RecvArena, TransportError } = native;
export default native;
