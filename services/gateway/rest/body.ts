/**
 * Request bodies at the REST edge: read as bytes within kube's size limit, a deadline and the
 * gateway's budget of body bytes in flight, then decoded by the decoder of their media type
 * (media/), which checks them (UTF-8, nesting depth) before anything else touches them.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants as http2, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { StatusError } from '../../../lib/errors.ts';
import { MAX_JSON_DEPTH, parsedSizeEstimate, scanJson } from '../../../lib/kube.ts';
import type { BodyBudget } from './edge-limits.ts';
import { unsupportedMediaType, type BodyDecoder, type DecodedBody } from './media/decoder.ts';
import { decodeDeleteOptionsBody, type DeleteOptionsBody } from './query.ts';

/** A request over HTTP/1.1 or HTTP/2 (node's compatibility API). */
export type EdgeRequest = IncomingMessage | Http2ServerRequest;
/**
 * A response over HTTP/1.1 (ServerResponse) or HTTP/2 (Http2ServerResponse): the part of
 * their common API the REST edge uses.
 */
export interface EdgeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  setHeader(name: string, value: string): unknown;
  /** HTTP/1.1 only: send the headers now (HTTP/2 sends them with writeHead). */
  flushHeaders?(): void;
  write(chunk: Buffer | string): boolean;
  end(callback?: () => void): unknown;
  end(data: Buffer | string, callback?: () => void): unknown;
  once(event: 'close' | 'drain' | 'finish', listener: () => void): unknown;
  off(event: 'close' | 'drain' | 'finish', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** Both kinds of response are EdgeResponses (checked here, once). */
export function edgeResponse(res: ServerResponse | Http2ServerResponse): EdgeResponse {
  return res;
}

/** kube-apiserver's default request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The Status of a body past MAX_BODY_BYTES, in kube's words. */
export function tooLarge(): StatusError {
  return new StatusError('RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY_BYTES}`);
}

/** kube's answer when the server will not take more now (its max-in-flight filter's words). */
export function tooManyRequests(): StatusError {
  return new StatusError('TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 });
}

/** Thrown by a read whose request was already answered (408) or whose client went away. */
export class BodyAbandoned extends Error {
  constructor(why: string) {
    super(why);
    this.name = 'BodyAbandoned';
  }
}

export interface BodyReaderOptions {
  budget: BodyBudget;
  /** Milliseconds the whole body may take to arrive once reading starts. */
  timeoutMs: number;
}

/** Reads request bodies under the limits of the front door. */
export class BodyReader {
  private readonly o: BodyReaderOptions;
  /** The budget bytes each response holds (given back once its answer is sent or its client is gone). */
  private readonly held = new WeakMap<EdgeResponse, { bytes: number; released: boolean }>();

  constructor(options: BodyReaderOptions) {
    this.o = options;
  }

  /**
   * The whole body as bytes. RequestEntityTooLarge past MAX_BODY_BYTES; TooManyRequests when
   * the budget of bytes in flight cannot take it (the bytes taken are given back when the
   * response is done); a body that does not arrive within the deadline is answered here with
   * 408 and its connection (HTTP/2: its stream) is closed, and the read rejects with
   * BodyAbandoned, as it does when the client goes away.
   */
  async read(req: EdgeRequest, res: EdgeResponse): Promise<Buffer> {
    const declared = Number(req.headers['content-length'] ?? '');
    if (declared > MAX_BODY_BYTES) {
      this.drain(req, res);
      throw tooLarge();
    }
    const reservation = this.reservation(res);
    // Events, not for-await: leaving a for-await early would destroy the request, and with it
    // the connection the refusal is to be answered on.
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const finish = (err: Error | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onGone);
        req.off('close', onGone);
        if (err === undefined) resolve(Buffer.concat(chunks, size));
        else reject(err);
      };
      const refuse = (err: StatusError): void => {
        finish(err);
        // What is not kept takes nothing from the budget, however long the client keeps sending.
        reservation.release();
        this.drain(req, res);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          refuse(tooLarge());
          return;
        }
        // The copies of its text a request makes (see parsedSizeEstimate) count as its bytes
        // arrive: what only a declared length claims takes nothing from others.
        try {
          reservation.reserveUpTo(parsedSizeEstimate(size, { depth: 0, values: 0 }));
        } catch (err) {
          refuse(StatusError.from(err));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => finish(undefined);
      const onGone = (): void => finish(new BodyAbandoned('the client went away while sending the body'));
      const timer = setTimeout(() => {
        finish(new BodyAbandoned('the body did not arrive in time'));
        answerSlowBody(req, res, this.o.timeoutMs);
      }, this.o.timeoutMs);
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onGone);
      req.once('close', onGone);
    });
  }

  /**
   * Disposes of the rest of a refused body (413, 429), whose budget is already given back. It
   * is read on and thrown away, so that the client can read its answer (many clients fail on a
   * connection closed under a request they are still writing) and keep its connection, but
   * only up to twice the body limit and within the body deadline: past either, the connection
   * is closed once the answer is out (HTTP/2: only this stream is reset). A body that declared
   * more than twice the limit is not received at all ("Connection: close").
   */
  private drain(req: EdgeRequest, res: EdgeResponse): void {
    const http2Stream = 'stream' in req ? req.stream : undefined;
    const close = (): void => {
      if (http2Stream !== undefined) http2Stream.close(http2.NGHTTP2_CANCEL);
      else req.socket?.destroy();
    };
    // The answer first: our side of an HTTP/2 stream finishes once its frames are handed on.
    const closeAfterAnswer = (): void => {
      const writer = http2Stream ?? res;
      if (writer.writableFinished) close();
      else writer.once('finish', close);
    };
    const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
    if (declared > 2 * MAX_BODY_BYTES && http2Stream === undefined && !res.headersSent) res.setHeader('Connection', 'close');
    let discarded = 0;
    const onData = (chunk: Buffer): void => {
      discarded += chunk.length;
      if (discarded > 2 * MAX_BODY_BYTES) {
        req.off('data', onData);
        closeAfterAnswer();
      }
    };
    const deadline = setTimeout(closeAfterAnswer, this.o.timeoutMs);
    deadline.unref();
    const done = (): void => {
      clearTimeout(deadline);
      req.off('data', onData);
    };
    req.once('end', done);
    req.once('close', done);
    req.on('data', onData);
    req.resume();
  }

  /**
   * The request body as an object, decoded by the decoder of its media type (chosen by the
   * request-info step; undefined is 415, answered before the body is read). An empty body is a
   * 400. The budget the decoded object takes is reserved as the decoder asks.
   */
  async readObject(req: EdgeRequest, res: EdgeResponse, decoder: BodyDecoder | undefined): Promise<DecodedBody> {
    if (decoder === undefined) throw unsupportedMediaType();
    const body = await this.read(req, res);
    if (body.length === 0) throw new StatusError('BadRequest', 'the body of the request is empty');
    const reservation = this.reservation(res);
    return decoder.decode(body, (bytes) => reservation.reserveUpTo(bytes));
  }

  /**
   * A patch body as bytes (its patch type and JSON are read by lib/patch, after authorization
   * and the Content-Type check kube makes first). What parsing it will take is reserved from
   * the budget, as for any JSON body.
   */
  async readPatch(req: EdgeRequest, res: EdgeResponse): Promise<Buffer> {
    const body = await this.read(req, res);
    this.reservation(res).reserveUpTo(parsedSizeEstimate(body.length, scanJson(body, MAX_JSON_DEPTH)));
    return body;
  }

  /** What a body decoded outside readObject (an apply configuration) claims from the same budget as readObject's. */
  reserver(res: EdgeResponse): (bytes: number) => void {
    const reservation = this.reservation(res);
    return (bytes) => reservation.reserveUpTo(bytes);
  }

  /** The budget taken for one request (one per response), given back when its response is done. */
  private reservation(res: EdgeResponse): { reserveUpTo(bytes: number): void; release(): void } {
    let held = this.held.get(res);
    if (held === undefined) {
      const h = { bytes: 0, released: false };
      this.held.set(res, h);
      // Given back once the answer is sent (or the client is gone), whichever comes first.
      const release = (): void => {
        this.o.budget.release(h.bytes);
        h.bytes = 0;
        h.released = true;
      };
      res.once('finish', release);
      res.once('close', release);
      held = h;
    }
    const h = held;
    return {
      reserveUpTo: (bytes: number) => {
        if (bytes <= h.bytes || h.released) return;
        if (!this.o.budget.tryReserve(bytes - h.bytes)) throw tooManyRequests();
        h.bytes = bytes;
      },
      release: () => {
        this.o.budget.release(h.bytes);
        h.bytes = 0;
        h.released = true;
      },
    };
  }

  /**
   * metav1.DeleteOptions from a DELETE body (kubectl sends one), in any media type a body may
   * have, decoded and checked as kube does; all fields optional, no body at all is none.
   */
  async readDeleteOptions(req: EdgeRequest, res: EdgeResponse, decoder: BodyDecoder | undefined): Promise<DeleteOptionsBody> {
    const body = await this.read(req, res);
    if (body.length === 0) return { present: false, preconditions: {}, dryRun: false };
    if (decoder === undefined) throw unsupportedMediaType();
    const reservation = this.reservation(res);
    return decodeDeleteOptionsBody(decoder.decode(body, (bytes) => reservation.reserveUpTo(bytes)).object);
  }

}

/**
 * Answers a body that did not arrive in time: 408 with a Status, then the connection closes
 * (HTTP/1.1: nothing else can be read on it; HTTP/2: only this stream is reset, the client's
 * other requests on the connection go on).
 */
function answerSlowBody(req: EdgeRequest, res: EdgeResponse, timeoutMs: number): void {
  const status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the request body did not arrive within ${timeoutMs / 1000} s`,
    reason: 'Timeout',
    code: 408,
  };
  const data = Buffer.from(JSON.stringify(status));
  const http2Stream = 'stream' in req ? req.stream : undefined;
  if (res.headersSent) {
    close();
    return;
  }
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': data.length };
  if (http2Stream === undefined) headers.Connection = 'close';
  res.writeHead(408, headers);
  res.end(data, close);

  function close(): void {
    if (http2Stream !== undefined) http2Stream.close(http2.NGHTTP2_CANCEL);
    else req.socket?.destroy();
  }
}
