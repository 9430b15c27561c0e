// Types of esm/native/index.mjs: the same names as the CommonJS build of lib/native.
import * as native from './index.js';

export * from './index.js';
export default native;
