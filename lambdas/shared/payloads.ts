/**
 * The payloads green and blue are sent (smoke check, warm-up, validation, probes), read from the plan's
 * payload source:
 * - `dataset`: a golden dataset in S3, JSON Lines, one request per line: `{"input": <payload>, "expected"?: <output>}`.
 *   It may be large, so it is always streamed (never held whole) and validation reads it in byte ranges that
 *   `planBatches` computes in one pass.
 * - `inline`: the policy's sample payload.
 * - `model-package-sample`: the model package's SamplePayloadUrl, a .tar.gz in S3 whose first file is the request.
 *
 * Line numbers (`index`) are 0-based physical lines of the dataset: blank lines send nothing but are counted, so
 * `index + 1` is the line an editor shows. Messages name lines 1-based.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConfigurationError, PayloadUnavailable } from './errors';
import type { PayloadSource } from './plan';

/** One request of the payload source. */
export interface Payload {
  /** Dataset: the line number (0-based). Inline and model-package sample: 0. */
  readonly index: number;
  /** The request body as the container expects it. */
  readonly body: string;
  readonly contentType: string;
  /** The dataset line's expected output, when it has one. */
  readonly expected?: unknown;
}

/** InvokeEndpoint's payload limit (6 MB): a larger request can never be sent. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** A dataset line may carry an expected output beside its input: lines up to this long are read. */
export const MAX_DATASET_LINE_BYTES = 2 * MAX_PAYLOAD_BYTES;
/**
 * Most batches one rollout validates. The batch list and the batches' results travel in the execution's
 * state (256 KB at most); 200 of each stay far below it.
 */
export const MAX_BATCHES = 200;

/** A byte range of the dataset, as `planBatches` computed it. */
export const DatasetBatchSchema = z
  .object({
    /** Position of the batch in the validation (0-based). */
    index: z.number().int().min(0),
    /** The batch's first line (0-based line number in the dataset). */
    firstLine: z.number().int().min(0),
    /** Lines in the batch, blank ones included. */
    lines: z.number().int().min(1),
    /** Offset of the batch's first byte. */
    byteStart: z.number().int().min(0),
    /** Offset of the batch's last byte (inclusive, as in an HTTP Range). */
    byteEnd: z.number().int().min(0),
    /** The dataset's ETag when the batches were planned: a changed object is refused (If-Match). */
    etag: z.string().optional(),
  })
  .strict()
  .refine((batch) => batch.byteEnd >= batch.byteStart, { message: 'byteEnd must be >= byteStart', path: ['byteEnd'] });

/** The single payload of an inline or model-package source, sent `lines` times. */
export const RepeatBatchSchema = z
  .object({
    index: z.number().int().min(0),
    /** Always 0: the source has one payload. */
    firstLine: z.literal(0),
    /** How many times the payload is sent. */
    lines: z.number().int().min(1),
    repeat: z.literal(true),
    /** Requests sent by the batches before this one: samples are numbered from here. */
    firstRequest: z.number().int().min(0),
  })
  .strict();

export const ValidationBatchSchema = z.union([RepeatBatchSchema, DatasetBatchSchema]);

export type DatasetBatch = z.infer<typeof DatasetBatchSchema>;
export type RepeatBatch = z.infer<typeof RepeatBatchSchema>;
export type ValidationBatch = z.infer<typeof ValidationBatchSchema>;

/** Part of a dataset to read: a batch's first line and byte range. */
export type DatasetRange = Pick<DatasetBatch, 'firstLine' | 'byteStart' | 'byteEnd' | 'etag'>;

export interface BatchPlan {
  readonly batches: ValidationBatch[];
  /** Requests all batches send together (non-blank dataset lines, or the repeats of the single payload). */
  readonly totalRequests: number;
}

export function isRepeatBatch(batch: ValidationBatch): batch is RepeatBatch {
  return 'repeat' in batch && batch.repeat === true;
}

/**
 * The payloads of `source`, in order. A dataset is streamed; with `range`, only that byte range is read
 * (an HTTP Range request) and line numbers start at `range.firstLine`. Inline and model-package sources
 * yield their one payload.
 * @throws PayloadUnavailable when the object cannot be read or a line is malformed (naming the line and the URI)
 */
export async function* readPayloads(s3: S3Client, source: PayloadSource, range?: DatasetRange): AsyncGenerator<Payload> {
  switch (source.kind) {
    case 'inline':
      yield { index: 0, body: source.body, contentType: source.contentType };
      return;
    case 'model-package-sample':
      yield { index: 0, body: await readModelPackageSample(s3, source.s3Uri), contentType: source.contentType };
      return;
    case 'dataset':
      yield* readDataset(s3, source.s3Uri, source.contentType, range);
      return;
  }
}

/** The first payload of `source` (the stream is closed after it). */
export async function firstPayload(s3: S3Client, source: PayloadSource): Promise<Payload> {
  for await (const payload of readPayloads(s3, source)) return payload;
  throw new PayloadUnavailable(`${describeSource(source)} holds no request: every line is blank.`);
}

/**
 * Up to `count` payloads from the start of `source` (fewer if it has fewer): a pool to cycle through.
 * Only the lines needed are read.
 */
export async function leadingPayloads(s3: S3Client, source: PayloadSource, count: number): Promise<Payload[]> {
  const payloads: Payload[] = [];
  if (count <= 0) return payloads;
  for await (const payload of readPayloads(s3, source)) {
    payloads.push(payload);
    if (payloads.length >= count) break;
  }
  if (payloads.length === 0) throw new PayloadUnavailable(`${describeSource(source)} holds no request: every line is blank.`);
  return payloads;
}

/**
 * Splits validation into batches. A dataset is read once, in a stream: every line is checked (a malformed
 * line fails here, before any validation traffic) and the byte offset of every `batchSize`-th line is kept,
 * so each batch later reads only its own byte range. Inline and model-package sources: the single payload
 * repeated `fallbackRequests` times, in batches of `batchSize` (larger if that would make too many batches).
 * @throws PayloadUnavailable when the dataset cannot be read, is malformed or holds no request
 * @throws ConfigurationError when the dataset needs more than MAX_BATCHES batches of `batchSize` lines
 */
export async function planBatches(s3: S3Client, source: PayloadSource, batchSize: number, fallbackRequests: number): Promise<BatchPlan> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (source.kind !== 'dataset') return repeatBatches(batchSize, fallbackRequests);

  const uri = source.s3Uri;
  const response = await getObject(s3, uri);
  const batches: DatasetBatch[] = [];
  const etag = response.ETag;
  let totalRequests = 0;
  let current: { index: number; firstLine: number; byteStart: number } | undefined;
  let lastLine: BodyLine | undefined;
  const close = (byteEnd: number, lines: number) => {
    if (current) batches.push({ ...current, lines, byteEnd, ...(etag ? { etag } : {}) });
  };
  for await (const line of datasetLines(response, uri)) {
    if (line.lineNumber % batchSize === 0) {
      close(line.byteStart - 1, batchSize);
      current = { index: batches.length, firstLine: line.lineNumber, byteStart: line.byteStart };
    }
    if (!isBlank(line.text)) {
      parseDatasetLine(line.text, line.lineNumber, uri, source.contentType);
      totalRequests++;
    }
    lastLine = line;
  }
  if (!lastLine || totalRequests === 0) {
    throw new PayloadUnavailable(`Dataset ${uri} holds no request: it is empty${lastLine ? ' or every line is blank' : ''}.`);
  }
  close(lastLine.byteEnd - 1, lastLine.lineNumber - current!.firstLine + 1);
  if (batches.length > MAX_BATCHES) {
    const lines = lastLine.lineNumber + 1;
    throw new ConfigurationError(
      `Dataset ${uri} has ${lines} lines: ${batches.length} batches of ${batchSize}, more than the ${MAX_BATCHES} one rollout can carry. ` +
        `Set policy.validation.batchSize to at least ${Math.ceil(lines / MAX_BATCHES)} or use a smaller dataset.`,
    );
  }
  return { batches, totalRequests };
}

function repeatBatches(batchSize: number, fallbackRequests: number): BatchPlan {
  if (!(Number.isInteger(fallbackRequests) && fallbackRequests >= 1)) {
    throw new RangeError(`fallbackRequests must be a positive integer, got ${fallbackRequests}`);
  }
  // One payload: a batch's size only bounds its duration, so it grows rather than exceed MAX_BATCHES.
  const size = Math.max(batchSize, Math.ceil(fallbackRequests / MAX_BATCHES));
  const batches: RepeatBatch[] = [];
  for (let firstRequest = 0; firstRequest < fallbackRequests; firstRequest += size) {
    batches.push({ index: batches.length, firstLine: 0, lines: Math.min(size, fallbackRequests - firstRequest), repeat: true, firstRequest });
  }
  return { batches, totalRequests: fallbackRequests };
}

/** `dataset s3://...` / `inline sample payload` / `model package sample s3://...`, for messages. */
export function describeSource(source: PayloadSource): string {
  switch (source.kind) {
    case 'dataset':
      return `Dataset ${source.s3Uri}`;
    case 'inline':
      return 'The inline sample payload';
    case 'model-package-sample':
      return `The model package sample ${source.s3Uri}`;
  }
}

async function* readDataset(s3: S3Client, uri: string, contentType: string, range?: DatasetRange): AsyncGenerator<Payload> {
  const response = await getObject(s3, uri, range);
  const firstLine = range?.firstLine ?? 0;
  for await (const line of datasetLines(response, uri, firstLine)) {
    if (isBlank(line.text)) continue;
    yield parseDatasetLine(line.text, line.lineNumber, uri, contentType);
  }
}

/** The lines of a dataset response, numbered from `firstLine`; a line too long to be a request is refused. */
async function* datasetLines(response: GetObjectCommandOutput, uri: string, firstLine = 0): AsyncGenerator<BodyLine> {
  try {
    for await (const line of bodyLines(response.Body, { maxLineBytes: MAX_DATASET_LINE_BYTES })) {
      yield { ...line, lineNumber: firstLine + line.lineNumber };
    }
  } catch (error) {
    if (error instanceof LineTooLongError) {
      throw new PayloadUnavailable(
        `Dataset ${uri} line ${firstLine + error.lineNumber + 1} is longer than ${MAX_DATASET_LINE_BYTES} bytes: a request can be at most ${MAX_PAYLOAD_BYTES} bytes (InvokeEndpoint's limit).`,
      );
    }
    throw error;
  }
}

/** One dataset line as a payload. `lineNumber` is 0-based; the message names it 1-based, as an editor does. */
export function parseDatasetLine(text: string, lineNumber: number, uri: string, contentType: string): Payload {
  const where = `Dataset ${uri} line ${lineNumber + 1}`;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PayloadUnavailable(`${where} is not valid JSON (${(error as Error).message}): each line must be {"input": <payload>, "expected"?: <output>}.`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document) || !('input' in document)) {
    throw new PayloadUnavailable(`${where} has no "input": each line must be {"input": <payload>, "expected"?: <output>}, got ${preview(text)}.`);
  }
  const record = document as { input: unknown; expected?: unknown };
  const body = requestBodyOf(record.input);
  if (body === undefined || body.length === 0) throw new PayloadUnavailable(`${where}: "input" is empty: there is nothing to send.`);
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new PayloadUnavailable(`${where}: "input" is ${bytes} bytes, more than InvokeEndpoint's ${MAX_PAYLOAD_BYTES}.`);
  }
  return { index: lineNumber, body, contentType, ...('expected' in record ? { expected: record.expected } : {}) };
}

function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

// ---------------------------------------------------------------------------------------------------------
// S3 objects

/** Bucket and key of an S3 location. */
/** The request a dataset line's `input` becomes: a string is sent as it is, anything else as JSON. */
export function requestBodyOf(input: unknown): string {
  return typeof input === 'string' ? input : JSON.stringify(input);
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Bucket and key of `s3://bucket/key`, or of the https forms SageMaker also accepts (virtual-hosted
 * `https://bucket.s3.region.amazonaws.com/key` and path-style `https://s3.region.amazonaws.com/bucket/key`).
 * Undefined when `uri` is none of these or has no key.
 */
export function parseS3Uri(uri: string): S3Location | undefined {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (s3) return { bucket: s3[1]!, key: s3[2]! };
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:') return undefined;
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const virtualHosted = /^(.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$/.exec(url.hostname);
  if (virtualHosted && path) return { bucket: virtualHosted[1]!, key: path };
  if (/^s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?$/.test(url.hostname)) {
    const slash = path.indexOf('/');
    if (slash > 0 && slash < path.length - 1) return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
  }
  return undefined;
}

/** True when S3 says the object or its bucket does not exist. */
export function isS3NotFound(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.name === 'NoSuchBucket');
}

/** What an S3 error means for a payload source, or undefined for errors worth retrying (throttling, 5xx). */
function s3ProblemOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  switch (error.name) {
    case 'NoSuchKey':
    case 'NotFound':
      return 'the object does not exist (NoSuchKey)';
    case 'NoSuchBucket':
      return 'the bucket does not exist (NoSuchBucket)';
    case 'AccessDenied':
    case 'Forbidden':
      return `access denied (${error.name}): the rollout functions may not read it (is the bucket granted to them, and its KMS key?)`;
    case 'PreconditionFailed':
      return 'the object changed since validation was planned (its ETag no longer matches)';
    case 'InvalidRange':
      return 'the planned byte range no longer exists in the object (it changed since validation was planned)';
    case 'InvalidObjectState':
      return 'the object is archived (InvalidObjectState): restore it first';
    default:
      return undefined;
  }
}

async function getObject(s3: S3Client, uri: string, range?: DatasetRange): Promise<GetObjectCommandOutput> {
  const location = parseS3Uri(uri);
  if (!location) throw new PayloadUnavailable(`${uri} is not an S3 URI (s3://bucket/key).`);
  try {
    return await s3.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(range ? { Range: `bytes=${range.byteStart}-${range.byteEnd}` } : {}),
        ...(range?.etag ? { IfMatch: range.etag } : {}),
      }),
    );
  } catch (error) {
    const problem = s3ProblemOf(error);
    if (problem) throw new PayloadUnavailable(`Cannot read ${uri}: ${problem}.`);
    throw error;
  }
}

/** One line of a streamed object. */
export interface BodyLine {
  /** 0-based, counted from the start of what was read. */
  readonly lineNumber: number;
  /** Offset of the line's first byte, from the start of what was read. */
  readonly byteStart: number;
  /** Offset just past the line's newline (or past its last byte, for a last line without one). */
  readonly byteEnd: number;
  /** The line's text, without its newline (`\n` or `\r\n`) and, on the first line, without a UTF-8 byte order mark. */
  readonly text: string;
}

/** A line longer than the reader accepts (`lineNumber` 0-based, from the start of what was read). */
export class LineTooLongError extends RangeError {
  constructor(readonly lineNumber: number, maxLineBytes: number) {
    super(`line ${lineNumber + 1} is longer than ${maxLineBytes} bytes`);
    this.name = 'LineTooLongError';
  }
}

/**
 * The lines of a streamed body, split as the bytes arrive: only the current line is buffered. A final line
 * without a newline is a line; the empty string after a final newline is not.
 */
export async function* bodyLines(body: unknown, options: { readonly maxLineBytes?: number } = {}): AsyncGenerator<BodyLine> {
  const maxLineBytes = options.maxLineBytes ?? Number.POSITIVE_INFINITY;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let consumed = 0;
  let lineStart = 0;
  let lineNumber = 0;
  const line = (bytes: Buffer, byteEnd: number): BodyLine => {
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (lineStart === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { lineNumber, byteStart: lineStart, byteEnd, text };
  };
  for await (const chunk of byteChunks(body)) {
    let position = 0;
    while (position < chunk.length) {
      const newline = chunk.indexOf(0x0a, position);
      const end = newline === -1 ? chunk.length : newline;
      if (pendingBytes + (end - position) > maxLineBytes) throw new LineTooLongError(lineNumber, maxLineBytes);
      if (newline === -1) {
        pending.push(chunk.subarray(position));
        pendingBytes += chunk.length - position;
        break;
      }
      const piece = chunk.subarray(position, newline);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      const byteEnd = consumed + newline + 1;
      yield line(bytes, byteEnd);
      lineNumber++;
      lineStart = byteEnd;
      pending = [];
      pendingBytes = 0;
      position = newline + 1;
    }
    consumed += chunk.length;
  }
  if (pendingBytes > 0) yield line(Buffer.concat(pending), consumed);
}

/** The bytes of an SDK streaming body (a Node Readable in Lambda), chunk by chunk, as Buffers. */
export async function* byteChunks(body: unknown): AsyncGenerator<Buffer> {
  if (body === undefined || body === null) return;
  if (typeof body === 'string') {
    yield Buffer.from(body);
    return;
  }
  if (body instanceof Uint8Array) {
    yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return;
  }
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    for await (const chunk of body as AsyncIterable<unknown>) {
      if (typeof chunk === 'string') yield Buffer.from(chunk);
      else if (chunk instanceof Uint8Array) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      else throw new TypeError(`unexpected chunk in a response body: ${typeof chunk}`);
    }
    return;
  }
  const webStream = body as { transformToWebStream?: () => ReadableStream<Uint8Array> };
  if (typeof webStream.transformToWebStream === 'function') {
    yield* byteChunks(Readable.fromWeb(webStream.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]));
    return;
  }
  throw new TypeError('the response body is not a stream');
}

// ---------------------------------------------------------------------------------------------------------
// Model package sample: a .tar.gz whose first regular file is the request

const TAR_BLOCK = 512;

/**
 * The request in a model package's SamplePayloadUrl archive: gunzipped and read as a tar (POSIX ustar or
 * GNU), as it streams; the first regular file is the payload (macOS `._` resource files are skipped).
 * @throws PayloadUnavailable when the object cannot be read, is not a gzipped tar, holds no file, or its
 *   first file is empty, too large for InvokeEndpoint or not UTF-8 text
 */
export async function readModelPackageSample(s3: S3Client, uri: string): Promise<string> {
  const response = await getObject(s3, uri);
  const fail = (what: string) => new PayloadUnavailable(`Model package sample ${uri}: ${what}.`);
  const source = Readable.from(byteChunks(response.Body));
  const gunzip = createGunzip();
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  try {
    const file = await firstTarFile(gunzip, MAX_PAYLOAD_BYTES);
    if (file.kind === 'none') throw fail('the archive holds no regular file');
    if (file.kind === 'too-large') throw fail(`${file.name} is ${file.size} bytes, more than InvokeEndpoint's ${MAX_PAYLOAD_BYTES}`);
    if (file.data.length === 0) throw fail(`${file.name} is empty`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(file.data);
    } catch {
      throw fail(`${file.name} is not UTF-8 text (binary sample payloads are not supported)`);
    }
  } catch (error) {
    if (error instanceof PayloadUnavailable) throw error;
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw fail(`not a gzip archive (${(error as Error).message})`);
    if (error instanceof TarFormatError) throw fail(`not a tar archive (${error.message})`);
    throw error;
  } finally {
    source.unpipe(gunzip);
    source.destroy();
    gunzip.destroy();
  }
}

class TarFormatError extends Error {}

type TarFileResult =
  | { readonly kind: 'file'; readonly name: string; readonly data: Buffer }
  | { readonly kind: 'too-large'; readonly name: string; readonly size: number }
  | { readonly kind: 'none' };

/** The first regular file of a tar stream; entries before it are skipped without being buffered. */
export async function firstTarFile(stream: AsyncIterable<Buffer | Uint8Array>, maxBytes: number): Promise<TarFileResult> {
  const reader = new ExactReader(stream[Symbol.asyncIterator]());
  for (;;) {
    const header = await reader.read(TAR_BLOCK);
    if (!header) {
      if (reader.bytesRead === 0) throw new TarFormatError('the archive is empty');
      return { kind: 'none' };
    }
    if (header.every((byte) => byte === 0)) return { kind: 'none' }; // end-of-archive marker
    checkTarHeader(header, reader.bytesRead - TAR_BLOCK);
    const size = tarSize(header);
    const type = String.fromCharCode(header[156]!);
    const name = tarName(header);
    const padded = Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    const regular = type === '0' || type === '\0' || type === '7';
    const resourceFork = /(^|\/)\._[^/]*$/.test(name);
    if (regular && !resourceFork) {
      if (size > maxBytes) return { kind: 'too-large', name, size };
      const data = size === 0 ? Buffer.alloc(0) : await reader.read(size);
      if (!data) throw new TarFormatError(`${name} is cut short`);
      return { kind: 'file', name, data };
    }
    if (!(await reader.skip(padded))) throw new TarFormatError(`entry ${name} is cut short`);
  }
}

/** The header checksum: the sum of its bytes with the checksum field read as spaces. */
function checkTarHeader(header: Buffer, offset: number): void {
  const stored = parseInt(header.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (!Number.isFinite(stored) || stored !== sum) throw new TarFormatError(`bad header checksum at byte ${offset}`);
}

/** Entry size: octal text, or GNU base-256 when the first byte has its high bit set. */
function tarSize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    let size = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  const size = parseInt(field.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
  if (!Number.isFinite(size)) throw new TarFormatError('bad size field');
  return size;
}

function tarName(header: Buffer): string {
  const text = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
  const name = text(0, 100);
  const ustar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? text(345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** Reads exact byte counts from a chunk stream, keeping only what is not consumed yet. */
class ExactReader {
  private buffered: Buffer = Buffer.alloc(0);
  private done = false;
  /** Bytes handed out or skipped so far. */
  bytesRead = 0;

  constructor(private readonly chunks: AsyncIterator<Buffer | Uint8Array>) {}

  /** Exactly `count` bytes, or undefined if the stream ends first. */
  async read(count: number): Promise<Buffer | undefined> {
    while (this.buffered.length < count && (await this.pull()));
    if (this.buffered.length < count) return undefined;
    const bytes = this.buffered.subarray(0, count);
    this.buffered = this.buffered.subarray(count);
    this.bytesRead += count;
    return bytes;
  }

  /** Discards `count` bytes without holding them; false if the stream ends first. */
  async skip(count: number): Promise<boolean> {
    let remaining = count;
    for (;;) {
      const taken = Math.min(remaining, this.buffered.length);
      this.buffered = this.buffered.subarray(taken);
      remaining -= taken;
      this.bytesRead += taken;
      if (remaining === 0) return true;
      if (!(await this.pull())) return false;
    }
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    return true;
  }
}
