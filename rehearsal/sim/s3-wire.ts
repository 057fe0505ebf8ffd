/**
 * S3 on the wire (restXml), for the transport: decodes the requests the SDK's S3Client sends
 * (virtual-hosted `<bucket>.s3.<region>.amazonaws.com/<key>` or path-style `s3.<region>.amazonaws.com/<bucket>/<key>`,
 * plain or `aws-chunked` bodies with trailing checksums) and answers as S3 does: object metadata in headers,
 * ListObjectsV2 and errors as XML (`<Error><Code>..</Code><Message>..</Message>..</Error>`; no body for HEAD),
 * `x-amz-request-id`. Time is virtual: every call waits the API latency plus the upload's transfer time, and a
 * response body is a Readable produced chunk by chunk at the transfer rate, only as fast as it is read.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { abortError, nowMs, sleep, type AbortSignalLike } from './clock';
import { AwsServiceError } from './errors';
import type { FaultInjector } from './faults';
import type { S3Simulation } from './s3';
import type { AwsCallRecord } from './transport';

/** The S3 operations the simulation implements. */
export const S3_OPERATIONS = ['GetObject', 'HeadObject', 'PutObject', 'DeleteObject', 'ListObjectsV2'] as const;
export type S3Operation = (typeof S3_OPERATIONS)[number];

/** 100 MB/s: a plausible single-stream S3 throughput from inside the region. */
export const DEFAULT_S3_BYTES_PER_SECOND = 100_000_000;
/** Response bodies are produced in chunks of this size (a socket's read size). */
export const S3_RESPONSE_CHUNK_BYTES = 64 * 1024;

export interface S3WireOptions {
  readonly region: string;
  readonly s3: S3Simulation;
  readonly faults: FaultInjector;
  /** Every call waits this long before answering (time to first byte). */
  readonly apiLatencyMs: number;
  /** Transfer rate of request and response bodies, bytes per virtual second. */
  readonly bytesPerSecond: number;
  /** Where every call is recorded, in arrival order. */
  readonly calls: AwsCallRecord[];
}

/** A decoded S3 request: the operation and its addressing. */
interface S3Request {
  /** An S3_OPERATIONS member, or a description of what is not implemented. */
  readonly operation: string;
  readonly bucket?: string;
  readonly key?: string;
}

const CHECKSUM_HEADERS = ['x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256'];
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export class S3WireHandler {
  private readonly regionalHost: string;
  private readonly virtualHostSuffix: string;
  private readonly bytesPerMs: number;
  private requestCount = 0;

  constructor(private readonly options: S3WireOptions) {
    if (!(options.bytesPerSecond > 0)) throw new RangeError(`S3 transfer rate must be positive, got ${options.bytesPerSecond}`);
    this.regionalHost = `s3.${options.region}.amazonaws.com`;
    this.virtualHostSuffix = `.${this.regionalHost}`;
    this.bytesPerMs = options.bytesPerSecond / 1000;
  }

  /** The hosts this handler answers for (for error messages). */
  get hostDescription(): string {
    return `${this.regionalHost} and <bucket>${this.virtualHostSuffix}`;
  }

  /** Whether the request is addressed to S3 in the simulation's region. */
  serves(hostname: string): boolean {
    return hostname === this.regionalHost || hostname.endsWith(this.virtualHostSuffix);
  }

  async handle(request: HttpRequest, body: Uint8Array, signal?: AbortSignalLike): Promise<HttpResponse> {
    const isHead = request.method.toUpperCase() === 'HEAD';
    let decoded: S3Request = { operation: `${request.method.toUpperCase()} ${request.path}` };
    let decodeError: AwsServiceError | undefined;
    try {
      decoded = this.decode(request);
    } catch (error) {
      if (!(error instanceof AwsServiceError)) throw error;
      decodeError = error;
    }
    const record: AwsCallRecord = { service: 's3', operation: decoded.operation, input: recordedInput(decoded, request, body), atMs: nowMs() };
    this.options.calls.push(record);
    const supported = (S3_OPERATIONS as readonly string[]).includes(decoded.operation);
    const fault = supported && !decodeError ? this.options.faults.apiErrorFor('s3', decoded.operation) : undefined;

    // The upload's size (not its aws-chunked framing) sets its transfer time.
    let upload: DecodedUpload | undefined;
    if (decoded.operation === 'PutObject' && !decodeError) {
      try {
        upload = decodePutBody(request, body);
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error;
        decodeError = error;
      }
    }
    const transferMs = Math.round((upload?.bytes.byteLength ?? body.byteLength) / this.bytesPerMs);

    try {
      await sleep(this.options.apiLatencyMs + transferMs, signal);
      if (decodeError) throw decodeError;
      if (!supported) {
        throw new AwsServiceError('NotImplemented', 'A header you provided implies functionality that is not implemented', { httpStatus: 501 });
      }
      if (fault) throw fault;
      return this.execute(decoded as S3Request & { operation: S3Operation }, request, upload, signal);
    } catch (error) {
      // Anything but a service error is a bug in the simulation (or an abort): let it surface as is.
      if (!(error instanceof AwsServiceError)) throw error;
      record.error = error.code;
      return this.errorResponse(error, isHead, signal);
    }
  }

  private execute(decoded: S3Request & { operation: S3Operation }, request: HttpRequest, upload: DecodedUpload | undefined, signal?: AbortSignalLike): HttpResponse {
    const s3 = this.options.s3;
    const bucket = decoded.bucket!;
    const key = decoded.key ?? '';
    switch (decoded.operation) {
      case 'GetObject':
      case 'HeadObject': {
        const { object, range } = s3.getObject(bucket, key, headerValue(request, 'range'));
        const headers: Record<string, string> = {
          'content-type': object.contentType,
          etag: object.etag,
          'last-modified': new Date(object.lastModifiedMs).toUTCString(),
          'accept-ranges': 'bytes',
        };
        if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
        // `response-content-type=...` and the like override the stored header in this response.
        for (const [name, value] of Object.entries(request.query ?? {})) {
          if (name.toLowerCase().startsWith('response-') && typeof value === 'string') headers[name.slice('response-'.length).toLowerCase()] = value;
        }
        // S3 returns the upload's checksum on request, and only for the whole object.
        if (object.checksum && !range && headerValue(request, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
          headers[object.checksum.header] = object.checksum.value;
        }
        const bytes = range ? object.body.subarray(range.start, range.end + 1) : object.body;
        const status = range ? 206 : 200;
        if (decoded.operation === 'HeadObject') return this.response(status, { ...headers, 'content-length': String(bytes.byteLength) }, new Uint8Array(), signal);
        return this.response(status, headers, bytes, signal);
      }
      case 'PutObject': {
        const stored = s3.putObjectFromRequest({
          bucket,
          key,
          body: upload!.bytes,
          ...(headerValue(request, 'content-type') !== undefined ? { contentType: headerValue(request, 'content-type')! } : {}),
          ...(upload!.checksum ? { checksum: upload!.checksum } : {}),
        });
        return this.response(200, { etag: stored.etag, ...(stored.checksum ? { [stored.checksum.header]: stored.checksum.value } : {}) }, new Uint8Array(), signal);
      }
      case 'DeleteObject':
        s3.deleteObject(bucket, key);
        return this.response(204, {}, new Uint8Array(), signal);
      case 'ListObjectsV2':
        return this.listObjectsV2(bucket, request, signal);
    }
  }

  private listObjectsV2(bucket: string, request: HttpRequest, signal?: AbortSignalLike): HttpResponse {
    const prefix = queryValue(request, 'prefix');
    const delimiter = queryValue(request, 'delimiter');
    const startAfter = queryValue(request, 'start-after');
    const continuationToken = queryValue(request, 'continuation-token');
    const encodingType = queryValue(request, 'encoding-type');
    const maxKeysText = queryValue(request, 'max-keys');
    if (encodingType !== undefined && encodingType !== 'url') {
      throw new AwsServiceError('InvalidArgument', 'Invalid Encoding Method specified in Request', { details: { ArgumentName: 'encoding-type', ArgumentValue: encodingType } });
    }
    const maxKeys = maxKeysText === undefined ? undefined : /^\d+$/.test(maxKeysText) ? Number(maxKeysText) : Number.NaN;
    const result = this.options.s3.listObjectsV2({
      bucket,
      ...(prefix !== undefined ? { prefix } : {}),
      ...(delimiter !== undefined ? { delimiter } : {}),
      ...(maxKeys !== undefined ? { maxKeys } : {}),
      ...(continuationToken !== undefined ? { continuationToken } : {}),
      ...(startAfter !== undefined ? { startAfter } : {}),
    });
    // With encoding-type=url, S3 URL-encodes keys and prefixes (XML 1.0 cannot carry every character).
    const text = (value: string): string => xmlText(encodingType === 'url' ? encodeURIComponent(value).replace(/%2F/g, '/') : value);
    const element = (name: string, value: string | number | boolean | undefined): string => (value === undefined ? '' : `<${name}>${value}</${name}>`);
    const xml =
      `${XML_DECLARATION}<ListBucketResult xmlns="${S3_XMLNS}">` +
      element('Name', xmlText(bucket)) +
      element('Prefix', text(prefix ?? '')) +
      element('Delimiter', delimiter !== undefined ? text(delimiter) : undefined) +
      element('MaxKeys', result.maxKeys) +
      element('EncodingType', encodingType) +
      element('KeyCount', result.contents.length + result.commonPrefixes.length) +
      element('IsTruncated', result.isTruncated) +
      element('ContinuationToken', continuationToken !== undefined ? xmlText(continuationToken) : undefined) +
      element('NextContinuationToken', result.nextContinuationToken) +
      element('StartAfter', startAfter !== undefined ? text(startAfter) : undefined) +
      result.contents
        .map(
          (object) =>
            `<Contents>${element('Key', text(object.key))}${element('LastModified', new Date(object.lastModifiedMs).toISOString())}` +
            `${element('ETag', xmlText(object.etag))}${element('Size', object.size)}${element('StorageClass', 'STANDARD')}</Contents>`,
        )
        .join('') +
      result.commonPrefixes.map((commonPrefix) => `<CommonPrefixes>${element('Prefix', text(commonPrefix))}</CommonPrefixes>`).join('') +
      '</ListBucketResult>';
    return this.response(200, { 'content-type': 'application/xml' }, new TextEncoder().encode(xml), signal);
  }

  /** The operation, bucket and key of a request, addressed virtual-hosted or path-style. */
  private decode(request: HttpRequest): S3Request {
    const method = request.method.toUpperCase();
    let path: string;
    try {
      path = decodeURIComponent(request.path);
    } catch {
      throw new AwsServiceError('InvalidURI', "Couldn't parse the specified URI.", { details: { URI: request.path } });
    }
    let bucket: string | undefined;
    let key: string | undefined;
    if (request.hostname.endsWith(this.virtualHostSuffix)) {
      bucket = request.hostname.slice(0, -this.virtualHostSuffix.length);
      key = path.slice(1);
    } else {
      // Path-style: /<bucket>/<key>.
      const slash = path.indexOf('/', 1);
      bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
      key = slash < 0 ? '' : path.slice(slash + 1);
    }
    const addressing = { ...(bucket ? { bucket } : {}), ...(key ? { key } : {}) };
    const unsupported = (): S3Request => {
      const subresources = Object.keys(request.query ?? {}).filter((name) => name !== 'x-id');
      return { operation: `${method} ${request.path}${subresources.length > 0 ? `?${subresources.join('&')}` : ''}`, ...addressing };
    };
    if (!bucket) return unsupported();
    if (!key) {
      return method === 'GET' && queryValue(request, 'list-type') === '2' ? { operation: 'ListObjectsV2', ...addressing } : unsupported();
    }
    // Query parameters that select another operation on the object (`?tagging`, `?uploads`, `?versionId=`...);
    // response-* overrides and presigned-URL parameters do not.
    const subresources = Object.keys(request.query ?? {}).filter((name) => !/^(x-id|response-.*|x-amz-.*)$/i.test(name));
    const byMethod: Record<string, S3Operation> = { GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' };
    const operation = byMethod[method];
    // The SDK names the operation in `x-id` (HeadObject goes without): it must be the one the method implies.
    const named = queryValue(request, 'x-id');
    if (operation === undefined || subresources.length > 0 || (named !== undefined && named !== operation)) {
      return named !== undefined ? { operation: named, ...addressing } : unsupported();
    }
    if (operation === 'PutObject' && headerValue(request, 'x-amz-copy-source') !== undefined) return { operation: 'CopyObject', ...addressing };
    return { operation, ...addressing };
  }

  private errorResponse(error: AwsServiceError, isHead: boolean, signal?: AbortSignalLike): HttpResponse {
    const headers: Record<string, string> = { 'content-type': 'application/xml' };
    if (error.code === 'InvalidRange' && typeof error.details.ActualObjectSize === 'number') {
      headers['content-range'] = `bytes */${error.details.ActualObjectSize}`;
    }
    const requestId = this.nextRequestId();
    if (isHead) {
      // A HEAD response has no body: the SDK only sees the status (and names a 404 NotFound).
      return this.response(error.httpStatus, { ...headers, 'content-length': '0' }, new Uint8Array(), signal, requestId);
    }
    const details = Object.entries(error.details)
      .map(([name, value]) => `<${name}>${xmlText(String(value))}</${name}>`)
      .join('');
    const xml =
      `${XML_DECLARATION}<Error><Code>${xmlText(error.code)}</Code><Message>${xmlText(error.message)}</Message>${details}` +
      `<RequestId>${requestId}</RequestId><HostId>${hostId(requestId)}</HostId></Error>`;
    return this.response(error.httpStatus, headers, new TextEncoder().encode(xml), signal, requestId);
  }

  /**
   * A response whose body streams at the transfer rate. `content-length` is the body's length unless the
   * caller set it (HEAD answers the object's length with no body).
   */
  private response(statusCode: number, headers: Record<string, string>, body: Uint8Array, signal?: AbortSignalLike, requestId = this.nextRequestId()): HttpResponse {
    return new HttpResponse({
      statusCode,
      headers: {
        'content-length': String(body.byteLength),
        ...headers,
        'x-amz-request-id': requestId,
        'x-amz-id-2': hostId(requestId),
        date: new Date(nowMs()).toUTCString(),
        server: 'AmazonS3',
      },
      body: pacedStream(body, this.bytesPerMs, signal),
    });
  }

  private nextRequestId(): string {
    this.requestCount += 1;
    return `51A0${this.requestCount.toString(16).toUpperCase().padStart(12, '0')}`;
  }
}

/**
 * A Readable producing `bytes` chunk by chunk, each chunk once its last byte has been transferred at
 * `bytesPerMs` (virtual time). Transfer only progresses while the stream is read, as over a socket whose
 * buffers are full; the chunks are views of `bytes`, never a copy of the whole.
 */
function pacedStream(bytes: Uint8Array, bytesPerMs: number, signal?: AbortSignalLike): Readable {
  let offset = 0;
  /** Virtual time (fractional ms) at which the bytes produced so far finished transferring. */
  let transferredAtMs: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = (): void => {
    stream.destroy(abortError());
  };
  const stream = new Readable({
    highWaterMark: S3_RESPONSE_CHUNK_BYTES,
    read() {
      if (offset >= bytes.byteLength) {
        this.push(null);
        return;
      }
      const end = Math.min(offset + S3_RESPONSE_CHUNK_BYTES, bytes.byteLength);
      const chunk = bytes.subarray(offset, end);
      offset = end;
      // A reader that keeps up reads each chunk at the (rounded) time it was delivered: the transfer goes on
      // from where it was. A reader that paused restarts it from now.
      const resumeAtMs = transferredAtMs === undefined || nowMs() > Math.round(transferredAtMs) ? nowMs() : transferredAtMs;
      transferredAtMs = resumeAtMs + chunk.byteLength / bytesPerMs;
      const waitMs = Math.round(transferredAtMs) - nowMs();
      if (waitMs <= 0) {
        this.push(chunk);
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        this.push(chunk);
      }, waitMs);
    },
    destroy(error, callback) {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener?.('abort', onAbort);
      callback(error);
    },
  });
  stream.once('end', () => signal?.removeEventListener?.('abort', onAbort));
  if (signal?.aborted) stream.destroy(abortError());
  else signal?.addEventListener?.('abort', onAbort);
  return stream;
}

interface DecodedUpload {
  readonly bytes: Uint8Array;
  readonly checksum?: { readonly header: string; readonly value: string };
}

/**
 * The object bytes of a PutObject: the body itself, or the payload of an `aws-chunked` body (the SDK's
 * encoding for streams: hex-sized chunks and trailing headers carrying the checksum). Verifies the length
 * and the checksums S3 verifies (Content-MD5, CRC32, SHA-1, SHA-256) and answers S3's errors when they differ.
 */
function decodePutBody(request: HttpRequest, body: Uint8Array): DecodedUpload {
  const contentEncoding = headerValue(request, 'content-encoding') ?? '';
  const isChunked = contentEncoding.split(',').some((encoding) => encoding.trim().toLowerCase() === 'aws-chunked');
  const trailers: Record<string, string> = {};
  let bytes = body;
  if (isChunked) {
    const declared = headerValue(request, 'x-amz-decoded-content-length');
    if (declared === undefined) throw new AwsServiceError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
    bytes = decodeAwsChunked(body, trailers);
    if (bytes.byteLength !== Number(declared)) {
      throw new AwsServiceError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
  } else {
    const declared = headerValue(request, 'content-length');
    if (declared === undefined) throw new AwsServiceError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
    if (body.byteLength !== Number(declared)) {
      throw new AwsServiceError('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
  }

  const md5 = headerValue(request, 'content-md5');
  if (md5 !== undefined) {
    if (Buffer.from(md5, 'base64').byteLength !== 16) throw new AwsServiceError('InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (createHash('md5').update(bytes).digest('base64') !== md5) {
      throw new AwsServiceError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  let checksum: DecodedUpload['checksum'];
  for (const header of CHECKSUM_HEADERS) {
    const value = headerValue(request, header) ?? trailers[header];
    if (value === undefined) continue;
    const algorithm = header.slice('x-amz-checksum-'.length);
    const computed = computeChecksum(algorithm, bytes);
    if (computed !== undefined && computed !== value) {
      throw new AwsServiceError('BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`);
    }
    checksum = { header, value };
  }
  return { bytes, ...(checksum ? { checksum } : {}) };
}

/** `<hex size>[;extensions]\r\n<data>\r\n ... 0\r\n<trailer>: <value>\r\n\r\n` -> data; trailers collected. */
function decodeAwsChunked(body: Uint8Array, trailers: Record<string, string>): Uint8Array {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const malformed = (): AwsServiceError => new AwsServiceError('IncompleteBody', 'The request body is not valid aws-chunked encoding.');
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    if (lineEnd < 0) throw malformed();
    const sizeText = buffer.toString('latin1', offset, lineEnd).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw malformed();
    const size = parseInt(sizeText, 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    if (offset + size + 2 > buffer.byteLength) throw malformed();
    chunks.push(buffer.subarray(offset, offset + size));
    offset += size + 2;
  }
  // Trailing headers, up to an empty line (or the end of the body).
  while (offset < buffer.byteLength) {
    const lineEnd = buffer.indexOf('\r\n', offset);
    const line = buffer.toString('latin1', offset, lineEnd < 0 ? buffer.byteLength : lineEnd);
    offset = lineEnd < 0 ? buffer.byteLength : lineEnd + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Base64 checksum of `bytes` for the algorithms the simulation verifies; undefined for the others (trusted). */
function computeChecksum(algorithm: string, bytes: Uint8Array): string | undefined {
  switch (algorithm) {
    case 'crc32': {
      const value = Buffer.alloc(4);
      value.writeUInt32BE(crc32(bytes));
      return value.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(algorithm).update(bytes).digest('base64');
    default:
      return undefined;
  }
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3), the SDK's default S3 checksum. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let index = 0; index < bytes.length; index++) crc = CRC32_TABLE[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** What a call record shows of an S3 request: the operation's parameters, never the body (its length instead). */
function recordedInput(decoded: S3Request, request: HttpRequest, body: Uint8Array): Record<string, string | number> {
  const input: Record<string, string | number | undefined> = { Bucket: decoded.bucket, Key: decoded.key };
  switch (decoded.operation) {
    case 'GetObject':
    case 'HeadObject':
      input.Range = headerValue(request, 'range');
      break;
    case 'PutObject': {
      input.ContentType = headerValue(request, 'content-type');
      const decodedLength = headerValue(request, 'x-amz-decoded-content-length');
      input.ContentLength = decodedLength !== undefined ? Number(decodedLength) : body.byteLength;
      break;
    }
    case 'ListObjectsV2': {
      input.Prefix = queryValue(request, 'prefix');
      input.Delimiter = queryValue(request, 'delimiter');
      const maxKeys = queryValue(request, 'max-keys');
      input.MaxKeys = maxKeys !== undefined && /^\d+$/.test(maxKeys) ? Number(maxKeys) : maxKeys;
      input.ContinuationToken = queryValue(request, 'continuation-token');
      input.StartAfter = queryValue(request, 'start-after');
      break;
    }
  }
  return Object.fromEntries(Object.entries(input).filter((entry): entry is [string, string | number] => entry[1] !== undefined));
}

function headerValue(request: HttpRequest, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [header, value] of Object.entries(request.headers)) {
    if (header.toLowerCase() === wanted) return value;
  }
  return undefined;
}

function queryValue(request: HttpRequest, name: string): string | undefined {
  const value = request.query?.[name];
  if (value === undefined || value === null) return undefined;
  return Array.isArray(value) ? value[0] : value;
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;' };

/** Text as S3 writes it in XML: markup characters as entities, and line breaks as character references. */
function xmlText(value: string): string {
  return value.replace(/[&<>"'\r\n\t]/g, (character) => XML_ESCAPES[character]!);
}

/** An `x-amz-id-2`-like host id, derived from the request id so responses stay deterministic. */
function hostId(requestId: string): string {
  return createHash('sha256').update(requestId).digest('base64');
}
