/** The application protocols purequic's command speaks (`perf`, `hq-interop`, `h3`), usable as a library. */
export { BODY_PATTERN_PERIOD, BodyPatternChecker, bodyPatternByte, bodyPatternSha256, bodyPatternView } from './body-pattern.js';
export { BodySink, type BodySinkOptions, type BodySummary } from './body-sink.js';
export { ConnectionClosedError, describeClose, type AppLog, type ConnectionApp, type TransferResult } from './connection-app.js';
export { bodySize, resolveRequestPath, writeBody, type ContentOptions, type ResponseBody } from './content.js';
export { H3Error, H3ErrorCode, H3FrameType, H3Setting, H3StreamType, h3ErrorName } from './h3-constants.js';
export { H3ClientConnection } from './h3-client.js';
export { H3Connection, H3_ALPN, decodeSettings } from './h3-connection.js';
export { H3FrameReader, encodeDataFrameHeader, encodeH3Frame, encodeSettings, type H3FrameHandler } from './h3-frames.js';
export { H3ServerConnection } from './h3-server.js';
export { HQ_INTEROP_ALPN, HqInteropServer, hqInteropDownload } from './hq-interop.js';
export { RawDownloads } from './raw-downloads.js';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
export { PERF_ALPN, PerfServer, perfDownload, perfRequest } from './perf.js';
export { decodeFieldSection, encodeFieldSection, type HeaderField } from './qpack.js';
export { QPACK_STATIC_TABLE } from './qpack-static-table.js';
export { SUPPORTED_ALPNS, createServerApp, serveConnection, serveEndpoint, type ServeOptions } from './server.js';
