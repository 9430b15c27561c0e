import type { IOData } from './types';

export function isIOData(data: unknown, depth = 0): data is IOData {
  if (typeof data === 'string' || data instanceof Uint8Array) return true;
  return Array.isArray(data) && depth < 64 && data.every((piece) => isIOData(piece, depth + 1));
}

export function ioLength(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof Uint8Array) return data.length;
  if (Array.isArray(data)) return data.reduce((sum: number, piece) => sum + ioLength(piece), 0);
  return 0;
}
