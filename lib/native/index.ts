/**
 * `abyss-transport/native`: the native addon's transport, always. Importing it throws the
 * `enotsup` TransportError that says why where the addon cannot run (not Linux, no prebuild
 * and no build for this machine, Deno without `--allow-ffi --allow-env`); the package's main
 * entry falls back to node:dgram there instead. The types are the main entry's.
 *
 * @example
 * import { UDP } from 'abyss-transport/native';
 * @module abyss-transport/native
 */
export { UDP } from './udp';
export { Socket } from './socket';
export { ContractSocket, type SocketEvents } from '../contract/socket';
export { RecvArena } from '../contract/arena';
export { TransportError, type ContractReason, type PosixReason, type TransportReason } from '../errors';
export type * from '../types';
