export { UDP } from './native/udp';
export { Socket } from './native/socket';
export { ContractSocket, type SocketEvents } from './contract/socket';
export { RecvArena } from './contract/arena';
export { TransportError } from './errors';
export type * from './types';
export { DgramUDP, DgramSocket } from './dgram';
