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

/** Whether `UDP` is the native addon's transport; false where it cannot run, `UDP` is then `DgramUDP`. */
export const isNative: boolean = native !== undefined;
/**
 * Why the addon cannot run here (an `enotsup` TransportError, with the load failure as its
 * `cause` when there was one), or undefined when `isNative` is true.
 */
export const nativeUnavailable: TransportError | undefined = unavailable;
/**
 * The transport: the native addon's, or where it cannot run (`isNative` false) `DgramUDP`,
 * whose sockets are `DgramSocket`s and which fails `enotsup` for what node:dgram cannot do.
 */
export const UDP: typeof Native.UDP = native?.UDP ?? (DgramUDP as unknown as typeof Native.UDP);
/** The class of `UDP`'s sockets: the native `Socket`, or `DgramSocket` where the addon cannot run. */
export const Socket: typeof Native.Socket = native?.Socket ?? (DgramSocket as unknown as typeof Native.Socket);
export type Socket<F extends Native.SocketFamily = Native.SocketFamily> = Native.Socket<F>;
export { ContractSocket, type SocketEvents } from './contract/socket';
export { RecvArena } from './contract/arena';
export { TransportError } from './errors';
export type * from './types';
export { DgramUDP, DgramSocket } from './dgram';
