/**
 * The one response writer of the REST edge: every answer (objects, lists, Tables, Status
 * errors, watch streams, the server's own paths) is written here, in the representation
 * negotiated for the request, with the request's warnings as `Warning` headers.
 */
import type { StatusError } from '../../../lib/errors.ts';
import type { WarningRecorder } from '../core/warnings.ts';
import type { EdgeResponse } from './body.ts';
import { negotiateErrorFormat, type OutputFormat } from './negotiation.ts';
import { PROTOBUF_CONTENT_TYPE } from './protobuf.ts';
import { PROTOBUF_STREAM_CONTENT_TYPE, protobufWatchFrame, type ProtobufAnswers } from './media/protobuf.ts';
import { encodeYaml } from './media/yaml.ts';
import { currentApiRequest, noteResponseObject } from '../core/observe.ts';

const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = { json: 'application/json', yaml: 'application/yaml', protobuf: PROTOBUF_CONTENT_TYPE };

/** The serializations a watch stream can have: JSON lines, or length-prefixed protobuf frames. */
export type StreamFormat = 'json' | 'protobuf';

export class ResponseWriter {
  private readonly res: EdgeResponse;
  private readonly warnings: WarningRecorder;
  private readonly protobuf: ProtobufAnswers;
  /**
   * The Accept header Status errors are negotiated from (a resource request's), or undefined
   * (other requests' errors are JSON). Negotiated only when an error is written.
   */
  private errorAccept: string | undefined;
  private negotiatesErrors = false;
  /** The format of the stream started, if one was. */
  private stream: StreamFormat | undefined;

  /** Called once a stream's headers are sent (kube's ResponseStarted audit stage). */
  private readonly onStreamStarted: (() => void) | undefined;

  constructor(res: EdgeResponse, warnings: WarningRecorder, protobuf: ProtobufAnswers, onStreamStarted?: () => void) {
    this.res = res;
    this.onStreamStarted = onStreamStarted;
    this.warnings = warnings;
    this.protobuf = protobuf;
  }

  /**
   * Writes this request's Status errors in the format `accept` negotiates (kube's
   * ErrorNegotiated: a resource request's errors, from authentication on, are in the client's
   * format, protobuf included), rather than JSON.
   */
  negotiateErrors(accept: string | undefined): void {
    this.errorAccept = accept;
    this.negotiatesErrors = true;
  }

  /** The headers every answer carries: no caching, and the request's warnings. */
  private headers(contentType: string, extra: Record<string, string | number> = {}): Record<string, string | number | string[]> {
    const headers: Record<string, string | number | string[]> = { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...extra };
    const warnings = this.warnings.headerValues();
    if (warnings.length > 0) headers.Warning = warnings;
    return headers;
  }

  /**
   * Writes `body` (an object, a list, a Table, a Status) in `format`. In protobuf, the message is
   * the one of the body's apiVersion and kind (a Table has none: tables are negotiated in JSON
   * or YAML only).
   */
  write(code: number, body: unknown, format: OutputFormat = 'json', extra: Record<string, string> = {}): void {
    noteResponseObject(body);
    const data = format === 'json' ? Buffer.from(JSON.stringify(body)) : format === 'yaml' ? encodeYaml(body) : this.protobuf.encode(body);
    this.bytes(code, data, CONTENT_TYPES[format], extra);
  }

  /**
   * Writes an answer already encoded as JSON: `json` (its parts, in order) must be exactly the
   * bytes write(code, body(), 'json') would send, which the caller proves (an object as storage
   * encoded it: see encodedJsonOf in lib/kube.ts). `body` is built only when the audit log
   * keeps the response object.
   */
  encodedJson(code: number, json: Uint8Array | readonly Uint8Array[], body: () => unknown): void {
    if (currentApiRequest()?.bodies === 'requestResponse') noteResponseObject(body());
    const data = json instanceof Uint8Array ? Buffer.from(json.buffer, json.byteOffset, json.byteLength) : Buffer.concat(json);
    this.bytes(code, data, CONTENT_TYPES.json);
  }

  /** Writes JSON with its own content type (discovery documents). */
  json(code: number, body: unknown, contentType: string): void {
    this.bytes(code, Buffer.from(JSON.stringify(body)), contentType);
  }

  /** Writes plain text (health checks). */
  text(code: number, text: string): void {
    this.bytes(code, Buffer.from(text), 'text/plain; charset=utf-8');
  }

  /** Writes `data` as `contentType` (the metrics' text formats). */
  bytes(code: number, data: Buffer, contentType: string, extra: Record<string, string> = {}): void {
    if (this.res.headersSent) {
      this.res.end();
      return;
    }
    this.res.writeHead(code, this.headers(contentType, { 'Content-Length': data.length, ...extra }));
    this.res.end(data);
  }

  /** Writes a Status; inside a started watch stream, as a final ERROR event in the stream's format. */
  status(err: StatusError): void {
    if (this.res.headersSent) {
      if (this.res.writableEnded) return;
      this.res.end(this.stream === 'protobuf' ? this.protobufErrorFrame(err) : `${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
      return;
    }
    // As kube does, a Status that says when to retry says it in Retry-After too.
    const retryAfter = err.details?.retryAfterSeconds;
    const extra: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) };
    const format = this.negotiatesErrors ? negotiateErrorFormat(this.errorAccept) : 'json';
    if (format !== 'protobuf') {
      this.write(err.code, err.toStatus(), format, extra);
      return;
    }
    let data: Buffer;
    try {
      data = this.protobuf.encode(err.toStatus());
    } catch {
      // A Status always has its message; should the generated data fail it, the error still goes out.
      this.write(err.code, err.toStatus(), 'json', extra);
      return;
    }
    this.bytes(err.code, data, PROTOBUF_CONTENT_TYPE, extra);
  }

  private protobufErrorFrame(err: StatusError): Buffer | string {
    try {
      return protobufWatchFrame('ERROR', this.protobuf.encode(err.toStatus()));
    } catch {
      return ''; // the stream ends without its ERROR event, as it would if the client were gone
    }
  }

  /**
   * Starts a watch stream (JSON lines, or length-prefixed protobuf frames; HTTP/1.1 sends it
   * chunked, HTTP/2 forbids naming the encoding) and returns a writer of its lines or frames
   * that waits while the client is behind.
   */
  startStream(format: StreamFormat = 'json'): (line: Buffer) => Promise<void> {
    this.stream = format;
    this.res.writeHead(200, this.headers(format === 'json' ? 'application/json' : PROTOBUF_STREAM_CONTENT_TYPE));
    this.res.flushHeaders?.();
    this.onStreamStarted?.();
    return async (line) => {
      if (this.res.write(line)) return;
      // Both listeners go once either fires: a long watch waits for drain many times.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    };
  }

  /** Ends the response (a watch stream, or an answer abandoned). */
  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }
}
