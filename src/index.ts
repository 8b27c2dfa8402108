// Public API of logging-system. Everything exported here is documented in README.md.
export * from './errors.js'

// Servers
export { LoggingServer, type LoggingServerOptions, type LoggingServerEvents, type ServerLogger } from './servers/logging-server.js'
export { fastifyLogging, type FastifyLoggingOptions } from './servers/fastify-plugin.js'
export { corsHeaders, preflightHeaders, type CorsOptions } from './servers/cors.js'

// Capture
export { type CaptureOptions } from './capture/request-capture.js'
export { type IpMode, type TrustProxy } from './capture/client-address.js'

// Batches and sinks
export { BatchWriter, type BatchWriterOptions, type SealedBatch } from './batch/batch-writer.js'
export { type Sink } from './sinks/sink.js'
export { DirectorySink } from './sinks/directory-sink.js'
export { S3Sink, createS3Client, type S3Location } from './sinks/s3-sink.js'
export { BatchUploader, type UploadReport } from './sinks/batch-uploader.js'
export { DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './sinks/retry-policy.js'

// Batch format V1
export * from './formats/batch-v1/index.js'

// Reading batches back
export { readBatchBody, gunzipBatch, DEFAULT_MAX_BATCH_RAW_BYTES, type BatchBodyOptions } from './reader/batch-body.js'
export { RequestAssembler, type LoggedRequest } from './reader/request-assembler.js'
