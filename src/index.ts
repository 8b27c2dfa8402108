export * from './errors.js'
export {
  type EventKey,
  type EventType,
  type JsonObject,
  type JsonValue,
  type LogEvent,
  type StoredEvent,
  type EventRule,
  type RuleViolation,
  checkEvent,
  validateEvent,
  validateEvents,
  eventsFromJsonBody,
  encodeJsonEvents,
  compareKeys,
  keyIdentity,
} from './formats/json-events.js'
export {
  EVENTBUF_V2_CONTENT_TYPE,
  DEFAULT_MAX_EVENT_BYTES,
  type EventbufV2DecoderOptions,
  EventbufV2Decoder,
  encodeEventbufV2,
  encodeEventbufV2Events,
  decodeEventbufV2,
  decodeEventbufV2Stream,
} from './formats/eventbuf-v2.js'
export { DevEventStore, type StoreResult, type StoreChange, type StoreListener } from './servers/dev-event-store.js'
export {
  DevServer,
  devServerPlugin,
  type DevServerOptions,
  DEFAULT_DEV_SERVER_PORT,
  DEFAULT_DEV_SERVER_HOST,
  DEFAULT_DEV_BODY_LIMIT,
  DEFAULT_DEV_MAX_EVENTS,
} from './servers/dev-server.js'
export { createClient, type ClientOptions, type EventClient, type TrackedEvent, type FlushResult } from './client/create-client.js'
export { postEvents, postEventsUrl, type EventFormat, type PostResult } from './client/post-events.js'
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js'
export { randomEvent, randomEvents, seededRandom, RANDOM_EVENT_TYPES } from './client/random-events.js'
