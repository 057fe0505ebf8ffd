/**
 * Amazon S3, in memory: buckets and objects with S3's semantics for the operations the system uses
 * (GetObject with a byte range, HeadObject, PutObject, ListObjectsV2, DeleteObject) and S3's error codes,
 * messages and statuses. It knows nothing of HTTP: s3-wire.ts decodes the REST-XML requests the SDK sends
 * and encodes these results as S3 does, streaming object bodies on virtual time.
 *
 * The simulated caller owns every bucket and may list it, so a missing key is NoSuchKey (404); a real
 * caller without s3:ListBucket gets AccessDenied (403) instead.
 */
import { createHash } from 'node:crypto';
import { nowMs } from './clock';
import { AwsServiceError } from './errors';

/** What S3 stores about an object besides its bytes. */
export interface S3ObjectMetadata {
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** The quoted MD5 of the bytes, as S3 gives it for a single-part upload: `"5d41402a..."`. */
  readonly etag: string;
  /** S3 stores `binary/octet-stream` when the upload names none. */
  readonly contentType: string;
  /** Whole seconds, as S3 keeps it (epoch ms). */
  readonly lastModifiedMs: number;
  /**
   * The checksum the uploader sent (header name and base64 value), returned by GetObject and HeadObject
   * when the caller asks for it (ChecksumMode ENABLED). @default none (seeded objects have none)
   */
  readonly checksum?: { readonly header: string; readonly value: string };
}

/** A stored object: its metadata and its bytes (never mutated: a PUT stores a new array). */
export interface S3StoredObject extends S3ObjectMetadata {
  readonly body: Uint8Array;
}

/** An inclusive byte range, as in `Content-Range: bytes start-end/size`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface S3GetObjectResult {
  readonly object: S3StoredObject;
  /** The satisfiable range the caller asked for (answered 206); absent: the whole object (200). */
  readonly range?: ByteRange;
}

export interface S3PutObjectRequest {
  readonly bucket: string;
  readonly key: string;
  readonly body: Uint8Array;
  /** @default 'binary/octet-stream' */
  readonly contentType?: string;
  /** @default none */
  readonly checksum?: { readonly header: string; readonly value: string };
}

export interface S3ListObjectsV2Request {
  readonly bucket: string;
  /** @default '' (every key) */
  readonly prefix?: string;
  /** Groups keys sharing the text up to this delimiter (after the prefix) into CommonPrefixes. @default none */
  readonly delimiter?: string;
  /** @default 1000 (also the most S3 returns per page) */
  readonly maxKeys?: number;
  /** The NextContinuationToken of the previous page. @default none */
  readonly continuationToken?: string;
  /** List keys after this one (ignored when a continuation token is given). @default none */
  readonly startAfter?: string;
}

export interface S3ListObjectsV2Result {
  readonly contents: readonly S3ObjectMetadata[];
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** Present when the listing is truncated. */
  readonly nextContinuationToken?: string;
  /** The MaxKeys the listing applied (the requested value, 1000 by default). */
  readonly maxKeys: number;
}

/** The most keys one ListObjectsV2 page holds, whatever MaxKeys asks for. */
export const MAX_KEYS_PER_PAGE = 1000;
/** S3's limit on a key's UTF-8 length. */
export const MAX_KEY_BYTES = 1024;
/** What S3 stores as the Content-Type of an object uploaded without one. */
export const DEFAULT_OBJECT_CONTENT_TYPE = 'binary/octet-stream';

const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS_PATTERN = /^\d+\.\d+\.\d+\.\d+$/;
const utf8 = new TextEncoder();

/** A key with its UTF-8 bytes: S3 orders keys by those (JavaScript compares UTF-16 code units, which differs for some characters). */
interface OrderedKey {
  readonly key: string;
  readonly bytes: Buffer;
}

const orderedKey = (key: string): OrderedKey => ({ key, bytes: Buffer.from(key, 'utf8') });

export class S3Simulation {
  /** Bucket name -> key -> object. */
  private readonly buckets = new Map<string, Map<string, S3StoredObject>>();

  // ---------------------------------------------------------------- seeding and inspection

  /** Creates an empty bucket (no-op if it exists). Throws on a name S3 would refuse. */
  createBucket(name: string): void {
    if (!BUCKET_NAME_PATTERN.test(name) || name.includes('..') || IP_ADDRESS_PATTERN.test(name)) {
      throw new Error(`invalid S3 bucket name "${name}": 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit`);
    }
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Stores an object (replacing any previous one) at once, without API latency. The bucket must exist. */
  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): void {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new Error(`S3 bucket "${bucket}" does not exist: call createBucket("${bucket}") first`);
    if (key.length === 0 || utf8.encode(key).byteLength > MAX_KEY_BYTES) throw new Error(`invalid S3 key "${key}": 1 to ${MAX_KEY_BYTES} UTF-8 bytes`);
    this.store(objects, key, typeof body === 'string' ? utf8.encode(body) : body, contentType);
  }

  /** The object's bytes decoded as UTF-8, or undefined if the bucket or the key does not exist. */
  getObjectText(bucket: string, key: string): string | undefined {
    const object = this.buckets.get(bucket)?.get(key);
    return object ? new TextDecoder().decode(object.body) : undefined;
  }

  /** The keys starting with `prefix`, in S3's listing order; [] if the bucket does not exist. */
  listKeys(bucket: string, prefix = ''): string[] {
    return this.orderedKeys(bucket)
      .map(({ key }) => key)
      .filter((key) => key.startsWith(prefix));
  }

  /** Whether the bucket exists. */
  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  // ---------------------------------------------------------------- operations (called by the wire layer)

  /**
   * GetObject and HeadObject: the object and the range to answer. `rangeHeader` is the HTTP Range header:
   * `bytes=a-b`, `bytes=a-` or `bytes=-n`. Like S3, a header it cannot parse (or a multi-range one) is
   * ignored and the whole object answered; a range starting past the end is InvalidRange (416).
   */
  getObject(bucket: string, key: string, rangeHeader?: string): S3GetObjectResult {
    const object = this.requireBucket(bucket).get(key);
    if (!object) throw new AwsServiceError('NoSuchKey', 'The specified key does not exist.', { details: { Key: key } });
    if (rangeHeader === undefined) return { object };
    const range = parseRange(rangeHeader, object.size);
    if (range === 'unsatisfiable') {
      throw new AwsServiceError('InvalidRange', 'The requested range is not satisfiable', {
        details: { RangeRequested: rangeHeader, ActualObjectSize: object.size },
      });
    }
    return range ? { object, range } : { object };
  }

  /** PutObject: stores the object and returns its metadata. */
  putObjectFromRequest(request: S3PutObjectRequest): S3ObjectMetadata {
    const objects = this.requireBucket(request.bucket);
    if (utf8.encode(request.key).byteLength > MAX_KEY_BYTES) {
      throw new AwsServiceError('KeyTooLongError', 'Your key is too long', { details: { Size: utf8.encode(request.key).byteLength, MaxSizeAllowed: MAX_KEY_BYTES } });
    }
    const { body, ...metadata } = this.store(objects, request.key, request.body, request.contentType, request.checksum);
    return metadata;
  }

  /** DeleteObject: removes the key; like S3 without versioning, deleting a missing key succeeds. */
  deleteObject(bucket: string, key: string): void {
    this.requireBucket(bucket).delete(key);
  }

  /** ListObjectsV2: one page of keys (and common prefixes) in UTF-8 byte order. */
  listObjectsV2(request: S3ListObjectsV2Request): S3ListObjectsV2Result {
    const objects = this.requireBucket(request.bucket);
    const prefix = request.prefix ?? '';
    const delimiter = request.delimiter || undefined;
    const maxKeys = request.maxKeys ?? MAX_KEYS_PER_PAGE;
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new AwsServiceError('InvalidArgument', 'Provided max-keys not an integer or within integer range', {
        details: { ArgumentName: 'max-keys', ArgumentValue: String(request.maxKeys) },
      });
    }
    const pageSize = Math.min(maxKeys, MAX_KEYS_PER_PAGE);
    const marker =
      request.continuationToken !== undefined
        ? decodeContinuationToken(request.continuationToken)
        : request.startAfter
          ? { after: request.startAfter, isPrefix: false }
          : undefined;
    const markerBytes = marker ? Buffer.from(marker.after, 'utf8') : undefined;

    const contents: S3ObjectMetadata[] = [];
    const commonPrefixes: string[] = [];
    let last: { after: string; isPrefix: boolean } | undefined;
    let isTruncated = false;
    for (const { key, bytes } of this.orderedKeys(request.bucket)) {
      if (!key.startsWith(prefix)) continue;
      if (marker && (Buffer.compare(bytes, markerBytes!) <= 0 || (marker.isPrefix && key.startsWith(marker.after)))) continue;
      const delimiterAt = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      const commonPrefix = delimiterAt >= 0 ? key.slice(0, delimiterAt + delimiter!.length) : undefined;
      // Keys under the common prefix just returned add nothing to the page.
      if (commonPrefix !== undefined && last?.isPrefix && last.after === commonPrefix) continue;
      if (contents.length + commonPrefixes.length >= pageSize) {
        // An entry is left over: the listing is truncated (but a MaxKeys of 0 lists nothing, untruncated).
        isTruncated = pageSize > 0;
        break;
      }
      if (commonPrefix !== undefined) {
        commonPrefixes.push(commonPrefix);
        last = { after: commonPrefix, isPrefix: true };
      } else {
        const { body, ...metadata } = objects.get(key)!;
        contents.push(metadata);
        last = { after: key, isPrefix: false };
      }
    }
    return {
      contents,
      commonPrefixes,
      isTruncated,
      ...(isTruncated && last ? { nextContinuationToken: encodeContinuationToken(last) } : {}),
      maxKeys,
    };
  }

  // ---------------------------------------------------------------- internals

  private requireBucket(bucket: string): Map<string, S3StoredObject> {
    const objects = this.buckets.get(bucket);
    if (!objects) throw new AwsServiceError('NoSuchBucket', 'The specified bucket does not exist', { details: { BucketName: bucket } });
    return objects;
  }

  private orderedKeys(bucket: string): OrderedKey[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].map(orderedKey).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  }

  private store(
    objects: Map<string, S3StoredObject>,
    key: string,
    body: Uint8Array,
    contentType: string | undefined,
    checksum?: S3StoredObject['checksum'],
  ): S3StoredObject {
    // A private copy: the caller may reuse its buffer.
    const bytes = new Uint8Array(body);
    const object: S3StoredObject = {
      key,
      size: bytes.byteLength,
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      contentType: contentType ?? DEFAULT_OBJECT_CONTENT_TYPE,
      lastModifiedMs: Math.floor(nowMs() / 1000) * 1000,
      ...(checksum ? { checksum } : {}),
      body: bytes,
    };
    objects.set(key, object);
    return object;
  }
}

/**
 * The range a `Range` header asks for, clamped to the object: undefined when S3 would ignore the header
 * (not `bytes=`, several ranges, unparsable, first > last), 'unsatisfiable' when it would answer 416.
 */
export function parseRange(header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last n bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

const TOKEN_PREFIX = 'sim1:';

/** Continuation tokens are opaque to callers; this one carries where the previous page stopped. */
function encodeContinuationToken(position: { after: string; isPrefix: boolean }): string {
  return Buffer.from(TOKEN_PREFIX + JSON.stringify([position.after, position.isPrefix]), 'utf8').toString('base64');
}

function decodeContinuationToken(token: string): { after: string; isPrefix: boolean } {
  const invalid = (): AwsServiceError =>
    new AwsServiceError('InvalidArgument', 'The continuation token provided is incorrect', {
      details: { ArgumentName: 'continuation-token', ArgumentValue: token },
    });
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (!text.startsWith(TOKEN_PREFIX)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(text.slice(TOKEN_PREFIX.length));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || typeof decoded[0] !== 'string' || typeof decoded[1] !== 'boolean') throw invalid();
  return { after: decoded[0], isPrefix: decoded[1] };
}
