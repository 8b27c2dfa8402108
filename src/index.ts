// Public API of logging-system. Everything exported here is documented in README.md.
export * from './errors.js'

// Servers
export { LoggingServer, ACK_MODES, type AckMode, type LoggingServerOptions, type LoggingServerEvents, type ServerLogger } from './servers/logging-server.js'
export { fastifyLogging, type FastifyLoggingOptions } from './servers/fastify-plugin.js'
export { corsHeaders, preflightHeaders, type CorsOptions } from './servers/cors.js'

// Capture
export { type CaptureOptions } from './capture/request-capture.js'
export { type IpMode, type TrustProxy } from './capture/client-address.js'

// Batches and sinks
export { BatchWriter, type BatchOptions, type BatchWriterOptions, type SealedBatch } from './batch/batch-writer.js'
export { type Sink } from './sinks/sink.js'
export { DirectorySink } from './sinks/directory-sink.js'
export { S3Sink, createS3Client, type S3Location } from './sinks/s3-sink.js'
export { BatchUploader, type UploadReport } from './sinks/batch-uploader.js'
export { DEFAULT_RETRY_POLICY, DEFAULT_SEND_RETRY_POLICY, normalizeRetryPolicy, retryDelay, isRetryableStatus, type RetryPolicy } from './retry-policy.js'

// Batch format V1
export * from './formats/batch-v1/index.js'

// Reading batches back
export { readBatchBody, readBatchBodyStream, gunzipBatch, DEFAULT_MAX_BATCH_RAW_BYTES, type BatchBodyOptions } from './reader/batch-body.js'
export { RequestAssembler, type LoggedRequest, type OpenRequestInfo } from './reader/request-assembler.js'
export { type BatchSource, DEFAULT_MAX_STORED_BATCH_BYTES } from './reader/batch-source.js'
export { DirectorySource, type DirectorySourceOptions } from './reader/directory-source.js'
export { S3Source, type S3SourceOptions } from './reader/s3-source.js'
export { FileSource } from './reader/file-source.js'
export { planBatches, compareBatches, type BatchPlan, type PlannedBatch } from './reader/batch-plan.js'
export {
  DEFAULT_RANGE_MARGIN_MS,
  parseTime,
  dayPrefixes,
  batchInRange,
  requestInRange,
  type TimeRange,
} from './reader/time-range.js'
export { BatchReader, emptyReport, somethingSkipped, DEFAULT_MAX_OPEN_REQUESTS, DEFAULT_MAX_OPEN_BYTES, type BatchReaderOptions, type ReadProblem, type ReadReport } from './reader/batch-reader.js'

// Decoders: requests (logged or live) to events (src/model/event-record.ts)
export { type EventRecord, type EventTypeValue, eventRecord } from './model/event-record.js'
export { RequestDecoderRegistry, BUILT_IN_DECODERS, mediaTypeOf } from './decoders/registry.js'
export { type RequestDecoder, type DecoderRequest, type ReplayedEvent } from './decoders/request-decoder.js'
export { liveDecoderRequest, type LiveRequestParts } from './decoders/live-request.js'
export {
  decodePostEvents,
  postEventsBucket,
  targetUrl,
  POST_EVENTS_PATH,
  POST_EVENTS_JSON_SOURCE,
  POST_EVENTS_EVENTBUF_V2_SOURCE,
  type PostEventsLimits,
} from './decoders/post-events.js'
export { postEventsJsonDecoder } from './decoders/post-events-json.js'
export { postEventsEventbufV2Decoder } from './decoders/post-events-eventbuf-v2.js'

// Replaying
export {
  RequestSender,
  DEFAULT_REPLAY_CONCURRENCY,
  DEFAULT_REPLAY_MAX_ATTEMPTS,
  DEFAULT_REPLAY_RETRY_POLICY,
  DEFAULT_REPLAY_TIMEOUT_MS,
  REPLAYED_FROM_HEADER,
  type RequestSenderOptions,
  type SendResult,
  type SendStats,
} from './replay/request-sender.js'
export { requestToNdjson, eventToNdjson } from './replay/ndjson.js'

// Keys: keyjson (formats/keyjson.md)
export {
  type KeyScalar,
  type KeyRule,
  type KeyViolation,
  type EncodedKeyRange,
  MAX_KEY_BYTES,
  KEYJSON_BASE64_ALPHABET,
  KEYJSON_BASE64_PAD,
  checkKey,
  encodeKey,
  decodeKey,
  compareEncodedKeys,
  keyPrefixRange,
  keyFromJsonText,
  encodeKeyFromJsonText,
  keyPrefixRangeFromJsonText,
  encodedKeyToJson,
  keyjsonBase64Encode,
  keyjsonBase64Decode,
  encodeKeyBase64,
  decodeKeyBase64,
} from './formats/keyjson.js'

// Event formats (JSON, eventbuf-v2)
export {
  type EventKey,
  type EventType,
  type JsonObject,
  type JsonValue,
  type LogEvent,
  type StoredEvent,
  type ReceivedEvent,
  type EventRule,
  type RuleViolation,
  MAX_VALUE_DEPTH,
  MAX_VALUE_BYTES,
  checkEvent,
  validateEvent,
  validateEvents,
  eventsFromJsonBody,
  readJsonEvents,
  readJsonEventsBody,
  storedEventJson,
  encodeJsonEvents,
  compareKeys,
  keyIdentity,
} from './formats/json-events.js'
export {
  EVENTBUF_V2_CONTENT_TYPE,
  DEFAULT_MAX_EVENT_BYTES as DEFAULT_MAX_EVENTBUF_V2_EVENT_BYTES,
  type EventbufV2DecoderOptions,
  EventbufV2Decoder,
  encodeEventbufV2,
  encodeEventbufV2Events,
  decodeEventbufV2,
  decodeEventbufV2Stream,
} from './formats/eventbuf-v2.js'
export { DevEventStore, type DevEventStoreOptions, type StoreResult, type StoreChange, type StoreListener } from './servers/dev-event-store.js'
export { scanJson, JsonTextError, MAX_JSON_DEPTH, type JsonNode, type JsonKind, type JsonScanOptions } from './formats/json-text.js'
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
export { randomEvent, randomEvents, seededRandom, RANDOM_EVENT_TYPES } from './client/random-events.js'
export { createAdminServer, type AdminServer } from './ops/admin-server.js'
export { createLoggingMetrics, type LoggingMetrics } from './ops/metrics.js'
export { Spool, DEFAULT_SPOOL_DIRECTORY } from './spool/spool.js'

// EventServer: the events API over a durable store, direct posts, tailing (docs/event-server.md)
export {
  EventServer,
  EVENT_SERVER_ROUTES,
  DEFAULT_EVENT_SERVER_PORT,
  DEFAULT_EVENT_SERVER_HOST,
  DEFAULT_EVENT_BODY_LIMIT,
  DEFAULT_EVENT_MAX_EVENTS,
  DEFAULT_MAX_PAGE_LIMIT,
  type EventServerOptions,
  type EventServerTailOptions,
  type EventServerStatus,
} from './servers/event-server.js'
export { STORE_RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_CODES, type EventServerRoutes, type EventServerContext, type EventServerLimits } from './servers/event-server-routes.js'
export { BatchTailer, DEFAULT_TAIL_INTERVAL_MS, DEFAULT_TAIL_GAP_WAIT_MS, DEFAULT_TAIL_READ_ATTEMPTS, type BatchTailerOptions, type TailReport } from './ingest/batch-tailer.js'
export { DirectIngest, type DirectIngestOptions, type LiveRequest } from './ingest/direct-ingest.js'
export { type IngestObserver, type IngestOrigin, type TailProblem, type TailedBatch } from './ingest/ingest-observer.js'
export { createEventServerMetrics, type EventServerMetrics } from './ops/event-server-metrics.js'
export { createAdminEndpoints, type Readiness, type MetricsSource } from './ops/admin-server.js'
export { openEventStore, type OpenEventStoreOptions } from './store/open-store.js'

// Analytics (seed 003): docs/analytics.md
export { analyticsRoutes, analyticsEventServerRoutes, type AnalyticsRoutesOptions } from './servers/analytics-routes.js'
export { collectRouteHelp, helpDocument, type HelpRoute, type RouteHelp } from './servers/route-help.js'
export { EventAnalytics, type EventAnalyticsOptions, type StatsResult, type DailyRow, type ActivityResult, type UniquesResult, type FlowRow } from './analytics/event-analytics.js'
export { FunnelCounter, type FunnelResult, type FunnelStep, type OrderedEvent } from './analytics/funnel.js'
export { type EventFilter, type Granularity, GRANULARITIES, DEFAULT_ANALYTICS_BUCKET, MAX_PAGE_LIMIT } from './analytics/analytics-params.js'
export { decodeApiEvent, encodeApiEventBody, apiEventKey, apiEventsRequestDecoder, API_EVENTS_SOURCE, type ApiEventContext } from './decoders/api-events.js'

// Guards for servers on a developer's machine (DNS rebinding, cross-site writes), for any server of this package.
export { rebindingProblem, crossSiteProblem, isLoopbackAddress } from './servers/request-guard.js'
export { runLoggingService, SERVE_EXIT, type LoggingServiceOptions } from './ops/logging-service.js'
export { runReplay, REPLAY_EXIT, type ReplayOptions } from './replay/run-replay.js'

// Analytics clients: Segment, PostHog, Mixpanel, Grouparoo (docs/clients.md), write keys, identity, /rpc
export { CLIENT_FORMATS, decodeClientRequest, findClientFormat } from './decoders/client-formats.js'
export { clientRequestFromLogged, withWriteKey, type ClientAnswer, type ClientEvent, type ClientFormat, type ClientFormatName, type ClientRequest, type DecodedClientRequest } from './decoders/client-request.js'
export { segmentFormat, SEGMENT_MAX_EVENT_BYTES, SEGMENT_MAX_BATCH_BYTES } from './decoders/segment.js'
export { posthogFormat } from './decoders/posthog.js'
export { mixpanelFormat } from './decoders/mixpanel.js'
export { grouparooFormat, grouparooGuid } from './decoders/grouparoo.js'
export { ClientIngest, type ClientIngestResult } from './ingest/client-ingest.js'
export { WriteKeys, hashWriteKey, DEFAULT_WRITE_KEY_CACHE_MS, type WriteKeyInfo, type CreatedWriteKey, type WriteKeysOptions } from './ingest/write-keys.js'
export { Identity, DEFAULT_MAX_PROFILE_IDS, type Profile, type ProfileEvent } from './ingest/identity.js'
export { ingestionRoutes } from './servers/ingestion-routes.js'
export { AnswerProfiles, BUILT_IN_ANSWER_PROFILES, type AnswerProfile } from './servers/answer-profiles.js'
export { RPC_PATH, RPC_ERRORS } from './servers/rpc-endpoint.js'
export { RpcClient, type RpcEvent, type RpcWriteResult } from './client/rpc-client.js'
export { ClientRequestError, WriteKeyError } from './errors.js'

// Events out (docs/processors.md, docs/export.md, docs/forwarding.md)
export {
  type Processor,
  type ProcessorKind,
  type ProcessorConfig,
  type ProcessorContext,
  typeText,
} from './processors/processor.js'
export { ProcessorRegistry, BUILT_IN_PROCESSORS, defaultProcessorRegistry, registerProcessor } from './processors/registry.js'
export { ProcessorPipeline, type ProcessorPipelineOptions, type ProcessorStats } from './processors/pipeline.js'
export { ProcessingEventStore } from './processors/processing-store.js'
export { loadProcessorConfigs } from './processors/processor-config.js'
export { ndjsonFileProcessor, type NdjsonFileProcessorOptions } from './processors/ndjson-file-processor.js'
export { storeProcessor, type StoreProcessorOptions } from './processors/store-processor.js'
export { statsProcessor, type StatsProcessor, type StatsProcessorOptions, type StatsCount } from './processors/stats-processor.js'
export { exportProcessor, type ExportProcessor, type ExportProcessorOptions } from './processors/export-processor.js'
export { forwardProcessor, forwarderOf, type ForwardProcessor, type ForwardProcessorOptions } from './processors/forward-processor.js'
export { eventDedupId, eventToJson, keyJsonText } from './model/event-json.js'
export { exportDay, DEFAULT_ROWS_PER_PART, type ExportDayOptions, type ExportReport } from './export/export-day.js'
export { DailyExporter, DEFAULT_EXPORT_INTERVAL_MS, DEFAULT_EXPORT_SETTLE_MS, type DailyExporterOptions } from './export/daily-exporter.js'
export { EXPORT_FORMATS, EXPORT_EXTENSIONS, partPath, escapePartitionValue, type ExportFormat } from './export/export-layout.js'
export { DirectoryTarget, S3Target, type ExportTarget, type S3TargetOptions } from './export/export-target.js'
export {
  Forwarder,
  DEFAULT_FORWARD_RETRY_POLICY,
  DEFAULT_FORWARD_BATCH_SIZE,
  DEFAULT_FORWARD_REQUESTS_PER_SECOND,
  DEFAULT_FORWARD_POLL_MS,
  DEFAULT_FORWARD_SETTLE_MS,
  type ForwarderOptions,
  type ForwardStats,
} from './forward/forwarder.js'
export { createDestination, DESTINATION_KINDS, DEFAULT_DESTINATION_URLS, type DestinationConfig, type DestinationKind, type SendOutcome } from './forward/destination.js'
export { DeadLetterStore, type DeadLetter, type DeadLetterStatus, type DeadLetterQuery } from './forward/dead-letters.js'
export { retryDeadLetters, dropDeadLetters, type RetryReport } from './forward/dead-letter-retry.js'
