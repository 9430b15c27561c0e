import { types } from 'node:util';

/** A piece of a datagram, as iodata is flattened. */
export type Piece = Uint8Array | string;

/** The most pieces one sendmsg gathers (IOV_MAX): a datagram of more is joined first. */
export const MAX_PIECES = 1024;

/**
 * iodata as the pieces the kernel gathers into one datagram, or undefined when it is not
 * iodata. A lone Uint8Array or string is its own piece. Every array element is read once,
 * depth first and without recursion (iodata may nest arbitrarily deep); an array may appear
 * twice (['ab'] reused) but not inside itself, which has no end. More than MAX_PIECES pieces
 * are joined into one, so that a send never asks the kernel for more than it gathers.
 */
export function flatten(data: unknown): Piece | Piece[] | undefined {
  if (typeof data === 'string' || types.isUint8Array(data)) return data as Piece;
  if (!Array.isArray(data)) return undefined;
  const pieces: Piece[] = [];
  // Each frame: an array and the index of its next element.
  const arrays: unknown[][] = [data];
  const next: number[] = [0];
  const open = new Set<unknown[]>([data]);
  const lengths: number[] = [data.length];
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    if (next[top] >= lengths[top]) {
      open.delete(arrays.pop()!);
      next.pop();
      lengths.pop();
      continue;
    }
    const piece: unknown = arrays[top][next[top]++];
    if (typeof piece === 'string' || types.isUint8Array(piece)) {
      pieces.push(piece as Piece);
    } else if (Array.isArray(piece)) {
      if (open.has(piece)) return undefined;
      open.add(piece);
      arrays.push(piece);
      next.push(0);
      lengths.push(piece.length);
    } else {
      return undefined;
    }
  }
  return pieces.length > MAX_PIECES ? join(pieces) : pieces;
}

function join(pieces: Piece[]): Buffer {
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)));
}

/** The bytes of a flattened datagram. */
export function byteLength(pieces: Piece | Piece[]): number {
  if (typeof pieces === 'string') return Buffer.byteLength(pieces);
  if (!Array.isArray(pieces)) return pieces.length;
  let length = 0;
  for (const piece of pieces) length += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
  return length;
}

/**
 * The pieces as Buffers (node:dgram takes no strings in a list). A piece whose memory was
 * given away (a transferred ArrayBuffer) holds nothing: an empty Buffer, as a view of a
 * detached buffer cannot be made.
 */
export function toBuffers(pieces: Piece | Piece[]): Buffer[] {
  const list = Array.isArray(pieces) ? pieces : [pieces];
  return list.map((piece) => {
    if (typeof piece === 'string') return Buffer.from(piece);
    if (Buffer.isBuffer(piece)) return piece;
    return piece.byteLength === 0 ? Buffer.alloc(0) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  });
}
