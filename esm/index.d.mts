// Types of the ES module entry (esm/index.mjs): the same names as the CommonJS build.
import * as abyss from './index.js';

export * from './index.js';
export default abyss;
