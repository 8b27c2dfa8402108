/**
 * GET /help from the real route table: each route says what it does in its
 * `config.help`, an onRoute hook collects every route as it is registered,
 * and helpDocument lays them out in seed 003's shape. A route cannot be
 * served without being listed.
 */
import type { FastifyInstance, RouteOptions } from 'fastify'

/** What GET /help says about a route. */
export interface RouteHelp {
  description: string
  required?: string[]
  parameters?: Record<string, string>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    help?: RouteHelp
  }
}

/** One method of one route, as GET /help lists it. */
export interface HelpRoute {
  url: string
  method: string
  help: RouteHelp
}

/** What a route without `config.help` is listed with, so it still shows (and a test can find it). */
export const UNDESCRIBED_ROUTE = 'undescribed'

/**
 * Collects every route registered on `app` from now on, its child scopes
 * included (HEAD routes fastify adds for GET are left out). Call it before
 * any route is registered; the list fills as fastify registers them.
 */
export function collectRouteHelp(app: FastifyInstance): HelpRoute[] {
  const routes: HelpRoute[] = []
  app.addHook('onRoute', (route: RouteOptions) => {
    const help = route.config?.help ?? { description: UNDESCRIBED_ROUTE }
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) if (method !== 'HEAD') routes.push({ url: route.url, method, help })
  })
  return routes
}

interface HelpEntry {
  uri: string
  method: string[]
  description: string
  required?: string[]
  parameters?: Record<string, string>
}

/**
 * Seed 003's /help shape: one-segment routes map to their description, deeper
 * ones nest by their first two segments. A route served with and without a
 * trailing slash is listed once.
 */
export function helpDocument(routes: readonly HelpRoute[]): Record<string, unknown> {
  const tree: Record<string, unknown> = {}
  const listed = new Set<string>()
  for (const route of routes) {
    const segments = route.url.split('/').filter(Boolean)
    const once = `${route.method} /${segments.join('/')}`
    if (listed.has(once)) continue
    listed.add(once)
    if (segments.length <= 1) {
      tree['/' + segments.join('')] = route.help.description
      continue
    }
    const top = (tree[`/${segments[0]}`] ??= {}) as Record<string, HelpEntry[]>
    const list = (top[`/${segments[1]}`] ??= [])
    const entry: HelpEntry = { uri: '/' + segments.slice(2).join('/'), method: [route.method], description: route.help.description }
    if (route.help.required) entry.required = route.help.required
    if (route.help.parameters) entry.parameters = route.help.parameters
    list.push(entry)
  }
  return { message: 'Move along nothing to see here.', routes: tree }
}

/** The help of GET /help itself. */
export const HELP_ROUTE_HELP: RouteHelp = { description: 'Shows the magical help' }
/** The help of the CORS preflight route (OPTIONS on every URL). */
export const PREFLIGHT_ROUTE_HELP: RouteHelp = { description: 'CORS preflight for any URL: 204 with the CORS headers' }
