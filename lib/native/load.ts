/**
 * Loads the addon, or says why it cannot run here, and chooses how it hears its sockets.
 * @internal
 * @packageDocumentation
 */
import path from 'node:path';
import { TransportError } from '../errors';

/** Why this platform cannot run the addon, known before loading it; undefined when it may. */
function platformRefusal(): string | undefined {
  if (process.platform !== 'linux') return `the addon is for Linux, this is ${process.platform}`;
  return undefined;
}

/**
 * Whether the addon hears readiness through a thread of its own (native/loop.h) rather than
 * the runtime's libuv loop. Bun and Deno give addons no libuv that works: Bun panics in
 * uv_poll_init, and Deno's emulation reports a uv_poll once per start, may call back after
 * uv_close, and runs a uv_check once. They are recognised before any libuv call is made.
 * On Node, ABYSS_TRANSPORT_READINESS=thread picks the thread too: CI runs the suite that way,
 * so the backend those runtimes use is tested where every test runs. (Read only on Node:
 * Deno asks for a permission to read the environment.)
 */
function threadReadiness(): boolean {
  const { bun, deno } = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string };
  return bun !== undefined || deno !== undefined || process.env.ABYSS_TRANSPORT_READINESS === 'thread';
}

/** The TransportError for an addon that cannot run: `enotsup`, saying why and what works instead. */
function unavailable(why: string, cause?: unknown): TransportError {
  const error = new TransportError('enotsup', `abyss-transport: the native addon cannot run here: ${why}. ` +
    "The node:dgram transport stands in for it (abyss-transport/dgram)");
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * The addon's exports, checked against the facade's copy of the boundary (protocol.ts), and
 * whether it must hear readiness through its own thread; or throws the `enotsup`
 * TransportError that says why it cannot run here.
 */
export function loadAddon(constants: Record<string, unknown>): { addon: unknown; threadReadiness: boolean } {
  const refusal = platformRefusal();
  if (refusal !== undefined) throw unavailable(refusal);
  let addon;
  try {
    // Required here, inside the try: it reads the environment as it loads, which Deno refuses
    // without --allow-env.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load: (dir: string) => { constants: Record<string, unknown> } = require('node-gyp-build');
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
  return { addon, threadReadiness: threadReadiness() };
}
