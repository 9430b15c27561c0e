import type { IOData } from './types';

const DONE = Symbol('done');

/**
 * Visits the leaves of iodata depth first, without recursion: it may nest arbitrarily deep.
 * An array may appear twice (['ab'] reused), but not inside itself: that has no end.
 */
function everyLeaf(data: unknown, visit: (leaf: unknown) => boolean): boolean {
  const stack: unknown[] = [data];
  const open = new Set<unknown[]>();
  while (stack.length > 0) {
    const piece = stack.pop();
    if (piece === DONE) {
      open.delete(stack.pop() as unknown[]);
    } else if (Array.isArray(piece)) {
      if (open.has(piece)) return false;
      open.add(piece);
      stack.push(piece, DONE);
      for (let i = piece.length - 1; i >= 0; i--) stack.push(piece[i]);
    } else if (!visit(piece)) {
      return false;
    }
  }
  return true;
}

export function isIOData(data: unknown): data is IOData {
  return everyLeaf(data, (leaf) => typeof leaf === 'string' || leaf instanceof Uint8Array);
}

export function ioLength(data: unknown): number {
  let length = 0;
  everyLeaf(data, (leaf) => {
    length += typeof leaf === 'string' ? Buffer.byteLength(leaf) : leaf instanceof Uint8Array ? leaf.length : 0;
    return true;
  });
  return length;
}
