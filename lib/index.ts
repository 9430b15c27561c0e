export { UDP } from './udp';
export { Socket } from './socket';
export { TransportError } from './errors';
export type * from './types';
export { DgramUDP, type DgramSocket } from './dgram';
