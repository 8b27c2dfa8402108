/** Random base58 tokens for object keys: crypto randomness, encoded with base-x. */
import { randomBytes } from 'node:crypto'
import baseX from 'base-x'
import { BASE58_ALPHABET, TOKEN_LENGTH } from './object-key.js'

const base58 = baseX(BASE58_ALPHABET)

/**
 * `length` base58 characters. Encodes 64 random bits and keeps the lowest
 * digits: 2^64 is ~1.4e5 times 58^8, so each character is uniform to within 1e-5.
 */
export function randomToken(length: number = TOKEN_LENGTH): string {
  const bytesNeeded = Math.ceil((length * Math.log2(58)) / 8) + 3
  const encoded = base58.encode(randomBytes(bytesNeeded))
  return encoded.slice(-length).padStart(length, BASE58_ALPHABET[0])
}
