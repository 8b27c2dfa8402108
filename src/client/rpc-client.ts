/**
 * A JSON-RPC 2.0 client for the EventServer's WebSocket endpoint `/rpc`
 * (docs/rpc.md), on the `ws` package: calls are matched to results by id,
 * several may be in flight on one connection.
 */
import WebSocket from 'ws'
import { SendFailedError } from '../errors.js'

export interface RpcEvent {
  type: string | number
  key?: unknown
  value?: Record<string, unknown>
  clientTime?: number
  userId?: string
  anonymousId?: string
}

export interface RpcWriteResult {
  stored: number
  duplicates: number
}

export class RpcClient {
  private readonly socket: WebSocket
  private readonly pending = new Map<number, { resolve: (result: RpcWriteResult) => void; reject: (error: Error) => void }>()
  private lastId = 0
  readonly opened: Promise<void>

  /** `url`: e.g. `ws://127.0.0.1:8090/rpc`; `writeKey` is sent as `?writeKey=` unless the URL has one. */
  constructor(url: string, writeKey?: string) {
    const target = new URL(url)
    if (writeKey !== undefined && !target.searchParams.has('writeKey')) target.searchParams.set('writeKey', writeKey)
    this.socket = new WebSocket(target)
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('error', reject)
    })
    this.socket.on('message', (data) => this.receive(data.toString()))
    this.socket.on('close', () => this.failAll(new SendFailedError(`the connection to ${url} closed`, { attempts: 1 })))
    this.socket.on('error', (err) => this.failAll(new SendFailedError(`${url}: ${err.message}`, { attempts: 1 }, { cause: err })))
  }

  private receive(text: string): void {
    let messages: unknown
    try {
      messages = JSON.parse(text)
    } catch {
      return
    }
    for (const message of Array.isArray(messages) ? messages : [messages]) {
      const { id, result, error } = message as { id?: number; result?: RpcWriteResult; error?: { code: number; message: string } }
      const call = id === undefined ? undefined : this.pending.get(id)
      if (!call) continue
      this.pending.delete(id!)
      if (error) call.reject(new SendFailedError(`rpc error ${error.code}: ${error.message}`, { attempts: 1, body: JSON.stringify(error) }))
      else call.resolve(result!)
    }
  }

  private failAll(error: Error): void {
    for (const call of this.pending.values()) call.reject(error)
    this.pending.clear()
  }

  /** Calls `method`; resolves with its result once the server has committed. */
  async call(method: 'track' | 'batch', params: Record<string, unknown>): Promise<RpcWriteResult> {
    await this.opened
    const id = ++this.lastId
    const result = new Promise<RpcWriteResult>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    return result
  }

  track(event: RpcEvent): Promise<RpcWriteResult> {
    return this.call('track', { ...event })
  }

  batch(events: readonly RpcEvent[]): Promise<RpcWriteResult> {
    return this.call('batch', { events })
  }

  /** Fire and forget: a notification gets no answer. */
  async notify(method: 'track' | 'batch', params: Record<string, unknown>): Promise<void> {
    await this.opened
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', method, params }))
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === WebSocket.CLOSED) return resolve()
      this.socket.once('close', () => resolve())
      this.socket.close()
    })
  }
}
