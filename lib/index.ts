/**
 * `abyss-transport`: UDP for Node.js through a native addon that calls `recvmmsg`, `sendmsg`,
 * `getsockopt` and `setsockopt` itself, for ancillary data, every socket option, kernel
 * statistics and batches; the socket layer of Abyss (the Abyss.Transport behaviour) in
 * TypeScript. Where the addon cannot run, {@link UDP} is {@link DgramUDP}, on node:dgram.
 *
 * Start with {@link UDP} (the calls), {@link SocketOptions} (every option) and
 * {@link TransportError} (every failure).
 *
 * @example
 * import { UDP } from 'abyss-transport';
 *
 * const socket = UDP.listen(5300, { ip: 'loopback' });
 * for await (const { address, port, data } of socket) await socket.send(address, port, data);
 * @module abyss-transport
 */
import { DgramSocket, DgramUDP } from './dgram';
import { TransportError } from './errors';
import type * as Native from './native';

/** The addon's transport, or the `enotsup` error saying why it cannot run here (lib/native/load.ts). */
function loadNative(): { native: typeof Native; unavailable?: undefined } | { native?: undefined; unavailable: TransportError } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { native: require('./native') as typeof Native };
  } catch (error) {
    if (error instanceof TransportError && error.reason === 'enotsup') return { unavailable: error };
    throw error;
  }
}

const { native, unavailable } = loadNative();

/**
 * Whether `UDP` is the native addon's transport; false where it cannot run (not Linux, no
 * build for this machine, Deno without `--allow-ffi --allow-env`), and `UDP` is then
 * {@link DgramUDP}.
 *
 * @example
 * if (!isNative) console.warn(`abyss-transport on node:dgram: ${nativeUnavailable?.message}`);
 */
export const isNative: boolean = native !== undefined;
/**
 * Why the addon cannot run here (an `enotsup` TransportError, with the load failure as its
 * `cause` when there was one), or undefined when `isNative` is true.
 *
 * @example
 * if (nativeUnavailable) console.warn(nativeUnavailable.message, nativeUnavailable.cause);
 */
export const nativeUnavailable: TransportError | undefined = unavailable;
/**
 * The transport: the native addon's ({@link abyss-transport/native!UDP | UDP} in
 * `abyss-transport/native`, where every call is documented), or where it cannot run
 * (`isNative` false) {@link DgramUDP}, whose sockets are `DgramSocket`s and which fails
 * `enotsup` for what node:dgram cannot do.
 *
 * @example
 * import { UDP } from 'abyss-transport';
 *
 * const socket = UDP.listen(5300);
 * const { address, port, data } = await UDP.recv(socket, 0, 'infinity');
 */
export const UDP: typeof Native.UDP = native?.UDP ?? (DgramUDP as unknown as typeof Native.UDP);
/**
 * The class of `UDP`'s sockets: the native {@link abyss-transport/native!Socket | Socket}, or
 * {@link DgramSocket} where the addon cannot run. For `instanceof` and types; sockets come from
 * `UDP.listen`, `UDP.open` and `UDP.adopt`.
 *
 * @example
 * if (value instanceof Socket) value.close();
 */
export const Socket: typeof Native.Socket = native?.Socket ?? (DgramSocket as unknown as typeof Native.Socket);
export type Socket<F extends Native.SocketFamily = Native.SocketFamily> = Native.Socket<F>;
export { ContractSocket, type SocketEvents } from './contract/socket';
export { RecvArena } from './contract/arena';
export { TransportError, type ContractReason, type PosixReason, type TransportReason } from './errors';
export type * from './types';
export { DgramUDP, DgramSocket } from './dgram';
