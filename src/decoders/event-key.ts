/**
 * Event keys of the client decoders: a string key (the client's id, or one
 * named after the request), keyjson-encoded (formats/keyjson.md: a string is
 * the byte 0x34 followed by its UTF-8).
 */
const PREFIX_STRING = 0x34

export function stringKey(text: string): Uint8Array {
  const utf8 = Buffer.from(text, 'utf8')
  const out = new Uint8Array(utf8.length + 1)
  out[0] = PREFIX_STRING
  out.set(utf8, 1)
  return out
}
