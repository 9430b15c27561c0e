/**
 * Loads the addon, or says why it cannot run here. Runtimes known to break on the libuv
 * calls the addon makes are recognised before anything is loaded: the calls themselves
 * would take the process down (Bun panics in uv_poll_init) or corrupt it.
 * @internal
 * @packageDocumentation
 */
import path from 'node:path';
import { TransportError } from '../errors';

/** Why this runtime cannot run the addon, known before loading it; undefined when it may. */
function runtimeRefusal(): string | undefined {
  const { bun, deno } = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  if (bun !== undefined) {
    return `Bun ${bun} gives native addons no libuv loop (its uv_poll_init panics the process), and the addon ` +
      'hears its sockets through uv_poll';
  }
  if (deno !== undefined) {
    return `Deno ${deno} emulates uv_poll for native addons with one report per uv_poll_start, possibly after ` +
      'uv_close, and uv_check with one call: the addon would stop hearing its sockets and could touch freed handles';
  }
  if (process.platform !== 'linux') return `the addon is for Linux, this is ${process.platform}`;
  return undefined;
}

/** The TransportError for an addon that cannot run: `enotsup`, saying why and what works instead. */
function unavailable(why: string, cause?: unknown): TransportError {
  const error = new TransportError('enotsup', `abyss-transport: the native addon cannot run here: ${why}. ` +
    "The node:dgram transport stands in for it (abyss-transport/dgram)");
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * The addon's exports, checked against the facade's copy of the boundary (protocol.ts), or
 * throws the `enotsup` TransportError that says why it cannot run here.
 */
export function loadAddon(constants: Record<string, unknown>): unknown {
  const refusal = runtimeRefusal();
  if (refusal !== undefined) throw unavailable(refusal);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load: (dir: string) => { constants: Record<string, unknown> } = require('node-gyp-build');
  let addon;
  try {
    addon = load(path.join(__dirname, '..', '..'));
  } catch (error) {
    throw unavailable(`it did not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`, error);
  }
  // This facade and the addon must agree on every constant of the boundary.
  for (const [name, value] of Object.entries(constants)) {
    if (typeof value === 'number' && addon.constants[name] !== value) {
      throw unavailable(`it was built for another version of this package (${name} is ${String(addon.constants[name])} ` +
        `there, ${value} here); rebuild it`);
    }
  }
  return addon;
}
