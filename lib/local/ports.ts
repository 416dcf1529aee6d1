/**
 * Free loopback ports for local servers (etcd, redis, the services) started by tests and by
 * the `make up` launcher.
 *
 * A port is only known to be free at the moment a trial bind of it is closed: another process
 * may take it before our server binds it. Ports are therefore drawn at random from below the
 * kernel's ephemeral range (see DRAW_FROM), and the starters in this directory retry with fresh
 * ports when a server fails with "address already in use".
 */
import { readFileSync } from 'node:fs';
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

/**
 * Where ports are drawn from: below the kernel's ephemeral range. Ports in that range are also
 * what the kernel gives every outgoing connection and every bind to port 0 of every process, so
 * a port chosen there and closed may be taken again within milliseconds by an unrelated
 * connection or by a concurrent test process asking the kernel the same way. Below it, only
 * another explicit chooser can take it, and a random draw over thousands of ports makes that
 * unlikely. Falls back to the kernel's choice when the range cannot be read.
 */
const DRAW_FROM = 15_000;

function ephemeralStart(): number | undefined {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && Number.isInteger(low) && low > DRAW_FROM + 1_000 ? low : undefined;
  } catch {
    return undefined;
  }
}

const BELOW_EPHEMERAL = ephemeralStart();

function bind(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    // exclusive: do not share the handle with cluster workers; we want a real, private bind.
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
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

/** A port to try: a random one below the ephemeral range, or 0 (the kernel's choice). */
function candidate(): number {
  if (BELOW_EPHEMERAL === undefined) return 0;
  return DRAW_FROM + Math.floor(Math.random() * (BELOW_EPHEMERAL - DRAW_FROM));
}

/** A free TCP port on 127.0.0.1 (bind it, read it, close). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const wanted = candidate();
    if (wanted !== 0 && handedOut.has(wanted)) continue;
    let port: number;
    try {
      port = await bind(wanted);
    } catch (err) {
      if (wanted !== 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
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
