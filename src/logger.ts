/** The structured logger the servers and their helpers report to (pino's shape), and a silent one. */
export interface ServerLogger {
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
}

export const silentLogger: ServerLogger = { info() {}, warn() {}, error() {} }
