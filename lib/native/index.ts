/**
 * `abyss-transport/native`: the native addon's transport, always. Importing it throws the
 * `enotsup` TransportError that says why where the addon cannot run (lib/native/load.ts);
 * the package's main entry falls back to node:dgram there instead.
 * @packageDocumentation
 */
export { UDP } from './udp';
export { Socket } from './socket';
export { ContractSocket, type SocketEvents } from '../contract/socket';
export { RecvArena } from '../contract/arena';
export { TransportError } from '../errors';
export type * from '../types';
