import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** test/vectors/: bodies and their signatures computed by openssl (make.sh regenerates them). */
export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

export interface Vector {
  file: string;
  path: string;
  bytes: number;
  signature: string;
}

export function loadVectors(): { secret: string; vectors: Vector[] } {
  const raw = JSON.parse(readFileSync(`${VECTORS_DIR}vectors.json`, 'utf8')) as { secret: string; vectors: Omit<Vector, 'path'>[] };
  return { secret: raw.secret, vectors: raw.vectors.map((v) => ({ ...v, path: `${VECTORS_DIR}${v.file}` })) };
}
