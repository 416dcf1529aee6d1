/**
 * The one response writer of the REST edge: every answer (objects, lists, Tables, Status
 * errors, watch streams, the server's own paths) is written here, in the representation
 * negotiated for the request, with the request's warnings as `Warning` headers.
 */
import type { StatusError } from '../../../lib/errors.ts';
import type { WarningRecorder } from '../core/warnings.ts';
import type { EdgeResponse } from './body.ts';
import type { OutputFormat } from './negotiation.ts';
import { encodeYaml } from './media/yaml.ts';

const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = { json: 'application/json', yaml: 'application/yaml' };

export class ResponseWriter {
  private readonly res: EdgeResponse;
  private readonly warnings: WarningRecorder;
  /**
   * The format Status errors are written in: JSON until the request's representation is
   * negotiated, then that one's (kube answers a YAML client's errors in YAML).
   */
  format: OutputFormat = 'json';

  constructor(res: EdgeResponse, warnings: WarningRecorder) {
    this.res = res;
    this.warnings = warnings;
  }

  /** The headers every answer carries: no caching, and the request's warnings. */
  private headers(contentType: string, extra: Record<string, string | number> = {}): Record<string, string | number | string[]> {
    const headers: Record<string, string | number | string[]> = { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', ...extra };
    const warnings = this.warnings.headerValues();
    if (warnings.length > 0) headers.Warning = warnings;
    return headers;
  }

  /** Writes `body` (an object, a list, a Table, a Status) in `format`. */
  write(code: number, body: unknown, format: OutputFormat = this.format, extra: Record<string, string> = {}): void {
    this.bytes(code, format === 'yaml' ? encodeYaml(body) : Buffer.from(JSON.stringify(body)), CONTENT_TYPES[format], extra);
  }

  /** Writes JSON with its own content type (discovery documents). */
  json(code: number, body: unknown, contentType: string): void {
    this.bytes(code, Buffer.from(JSON.stringify(body)), contentType);
  }

  /** Writes plain text (health checks). */
  text(code: number, text: string): void {
    this.bytes(code, Buffer.from(text), 'text/plain; charset=utf-8');
  }

  private bytes(code: number, data: Buffer, contentType: string, extra: Record<string, string> = {}): void {
    if (this.res.headersSent) {
      this.res.end();
      return;
    }
    this.res.writeHead(code, this.headers(contentType, { 'Content-Length': data.length, ...extra }));
    this.res.end(data);
  }

  /** Writes a Status; inside a started watch stream, as a final ERROR event. */
  status(err: StatusError): void {
    if (this.res.headersSent) {
      if (!this.res.writableEnded) this.res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
      return;
    }
    // As kube does, a Status that says when to retry says it in Retry-After too.
    const retryAfter = err.details?.retryAfterSeconds;
    this.write(err.code, err.toStatus(), this.format, retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
  }

  /**
   * Starts a watch stream (JSON lines; HTTP/1.1 sends it chunked, HTTP/2 forbids naming the
   * encoding) and returns a writer of its lines that waits while the client is behind.
   */
  startStream(): (line: Buffer) => Promise<void> {
    this.res.writeHead(200, this.headers('application/json'));
    this.res.flushHeaders?.();
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
