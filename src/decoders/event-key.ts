/**
 * Event keys of the client decoders: a string key (the client's id, or one
 * named after the request), keyjson-encoded (formats/keyjson.md).
 */
import { encodeKey } from '../formats/keyjson.js'

export function stringKey(text: string): Uint8Array {
  return encodeKey(text)
}
