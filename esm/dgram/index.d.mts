// Types of esm/dgram/index.mjs: the same names as the CommonJS build of lib/dgram.
import * as dgram from './index.js';

export * from './index.js';
export default dgram;
