// A request whose body arrives in two halves over a raw socket, for tests of
// what close() does to requests still in flight.
import { connect } from 'node:net'

export interface HalfSentRequest {
  /** Sends the rest of the body. */
  finish(): void
  /** Everything the server answered, once it closed the connection or `finish` was followed by an end. */
  answer(): string
  closed: Promise<void>
  destroy(): void
}

/** Connects and sends `head` (request line and headers) with the first half of the body. */
export async function sendHalf(port: number, head: string, first: string, rest: string): Promise<HalfSentRequest> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  let answer = ''
  socket.on('data', (data) => (answer += data))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(head + first)
  return { finish: () => socket.write(rest), answer: () => answer, closed, destroy: () => socket.destroy() }
}
