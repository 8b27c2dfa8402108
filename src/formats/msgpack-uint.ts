/**
 * msgpack unsigned integers read by hand, where a reader must know how many
 * bytes one took (the eventbuf-v2 length prefix, batch V1 and its fast path). One place for the
 * widths: positive fixint, uint 8/16/32/64.
 */

/** Bytes after the first one: 0 for a positive fixint, 1/2/4/8 for uint 8/16/32/64, -1 when `first` starts no unsigned integer. */
export function msgpackUintWidth(first: number): number {
  if (first <= 0x7f) return 0
  return first === 0xcc ? 1 : first === 0xcd ? 2 : first === 0xce ? 4 : first === 0xcf ? 8 : -1
}

/** The big-endian integer in bytes[at, at + width) (exact up to 2^53; larger values are approximate). */
export function readUintBytes(bytes: Uint8Array, at: number, width: number): number {
  let value = 0
  for (let i = 0; i < width; i++) value = value * 256 + bytes[at + i]!
  return value
}
