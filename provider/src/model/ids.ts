import { randomBytes } from "crypto";
import { z } from "zod";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * Ids go into NSG rule names, AWS tags and group names, and URLs, so they use lower-case RFC 4648
 * base32 only. `random` is injectable for deterministic tests.
 */
export function randomId(length: number, random: (size: number) => Uint8Array = randomBytes): string {
  // 256 is a multiple of 32, so the low five bits of a random byte are uniform.
  return Array.from(random(length), (b) => BASE32[b & 31]).join("");
}

export function idSchema(length: number) {
  return z.string().regex(new RegExp(`^[a-z2-7]{${length}}$`), { error: `must be ${length} characters of a-z and 2-7` });
}
