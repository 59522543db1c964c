// Ids like OnePush's: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32),
// so ids are unique and sort by creation time. Time and randomness are parameters: core does no I/O.

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `prefix_` + a 26-character ULID for `timeMs`, using 10 bytes of `random`. */
export function makeId(prefix: string, timeMs: number, random: Uint8Array): string {
  if (random.length < 10) throw new TypeError('makeId needs 10 random bytes');
  let out = '';
  let t = Math.max(0, Math.floor(timeMs));
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  // 80 random bits → 16 base32 characters, 5 bits at a time.
  let bits = 0;
  let acc = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | (random[i] ?? 0);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${out}`;
}
