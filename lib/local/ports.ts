/**
 * Free loopback ports for local servers (etcd, redis, the services) started by tests and by
 * the `make up` launcher.
 *
 * Asking the kernel (bind to port 0) is the only reliable way to find a free port, but the port
 * is only known to be free at the moment it is closed: another process may take it before our
 * server binds it. The starters in this directory therefore retry with fresh ports when a
 * server fails with "address already in use".
 */
import { createServer } from 'node:net';

/**
 * Ports handed out by this process. Linux may hand the same ephemeral port out again right after
 * it is closed, so two calls in a row (e.g. etcd's client and peer ports) could collide before
 * either server has bound its port; remembering them keeps the results of one process distinct.
 */
const handedOut = new Set<number>();

/** Only recent ports need remembering (older ones are bound or released by now); bounded so a long run cannot exhaust the range. */
const REMEMBER = 1024;

/** How often to ask the kernel again when it repeats a port this process already handed out. */
const MAX_ATTEMPTS = 50;

function bindEphemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    // exclusive: do not share the handle with cluster workers; we want a real, private bind.
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => {
        if (err) reject(err);
        else if (port === 0) reject(new Error('freePort: could not read the bound port'));
        else resolve(port);
      });
    });
  });
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await bindEphemeral();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      if (handedOut.size > REMEMBER) {
        // Sets iterate in insertion order: the first value is the oldest.
        const oldest = handedOut.values().next().value;
        if (oldest !== undefined) handedOut.delete(oldest);
      }
      return port;
    }
  }
  throw new Error(`freePort: no new free port on 127.0.0.1 after ${MAX_ATTEMPTS} attempts`);
}
