/**
 * A minimal HTTPS client for the gateway's REST API: trusts only the cluster CA, sends a bearer
 * token, returns status, headers and the body (parsed when JSON).
 */
import { request } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface RestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json(): Record<string, unknown>;
}

export interface RestClient {
  request(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      headers?: Record<string, string>;
      token?: string | null;
      signal?: AbortSignal;
      /** A client certificate (and its key) to present in the TLS handshake. */
      identity?: { certPem: string; keyPem: string };
    },
  ): Promise<RestResponse>;
  /** Opens a watch and yields parsed events (one JSON object per line) until `signal` aborts or the stream ends. */
  watch(path: string, signal: AbortSignal, headers?: Record<string, string>): AsyncGenerator<Record<string, unknown>>;
}

export function createRestClient(baseUrl: string, caPem: string, token: string): RestClient {
  const url = new URL(baseUrl);
  const base = { host: url.hostname, port: url.port, ca: caPem };
  const send: RestClient['request'] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
      const auth = options.token === undefined ? token : options.token;
      if (auth !== null) headers.Authorization = `Bearer ${auth}`;
      let payload: Buffer | undefined;
      if (options.body !== undefined) {
        payload = Buffer.isBuffer(options.body) ? options.body : Buffer.from(JSON.stringify(options.body));
        headers['Content-Type'] ??= 'application/json';
        headers['Content-Length'] = String(payload.length);
      }
      const identity = options.identity === undefined ? {} : { cert: options.identity.certPem, key: options.identity.keyPem };
      const req = request({ ...base, ...identity, method, path, headers, ...(options.signal !== undefined ? { signal: options.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) as Record<string, unknown> });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  async function* watch(path: string, signal: AbortSignal, headers: Record<string, string> = {}): AsyncGenerator<Record<string, unknown>> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ ...base, method: 'GET', path, headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...headers }, signal }, resolve);
      req.on('error', reject);
      req.end();
    });
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw new Error(`watch answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`);
    }
    let partial = '';
    try {
      for await (const chunk of res) {
        partial += (chunk as Buffer).toString();
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }
  return { request: send, watch };
}
