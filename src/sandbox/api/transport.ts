// The API server's port speaks HTTP/1.1 and HTTP/2.
//
// kube-apiserver serves HTTP/2 and client-go multiplexes every request and watch of a process onto it.
// It allows 100 concurrent streams per connection (its limit since CVE-2023-44487); a client with more
// watches opens another connection. Both protocols reach the same request handler through Node's
// HTTP/2 compatibility API.
// - With TLS (`--tls`), as a real cluster: ALPN picks the protocol, so Go clients (kubectl) speak
//   HTTP/2 and client-node speaks HTTP/1.1, exactly as against kube-apiserver.
// - Without TLS (the default) there is no ALPN. HTTP/2 is offered with prior knowledge (h2c, RFC 9113
//   §3.3): a connection that opens with the HTTP/2 client preface is handed to an HTTP/2 session, and
//   any other connection to the HTTP/1.1 server. kubectl and client-node against an http:// URL speak
//   HTTP/1.1.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { ServingCertificate } from './tls';

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** SETTINGS_MAX_CONCURRENT_STREAMS, as kube-apiserver announces it. */
export const H2_MAX_STREAMS = 100;
/** What a client may upload per stream before a WINDOW_UPDATE: kube-apiserver's 256 KiB buffers. */
const H2_STREAM_WINDOW = 256 * 1024;
/** A connection that sends nothing at all for this long is closed (a port scanner, a stuck client). */
const FIRST_BYTES_TIMEOUT_MS = 60_000;
/** TLS 1.3 suites in Go's order on a machine with AES instructions (kube-apiserver's crypto/tls). */
export const GO_TLS13_SUITES = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384';

export type Protocol = 'http/1.1' | 'h2c';

/** Which protocol a connection speaks, from its first bytes; undefined while they could still be either. */
export function sniffProtocol(first: Buffer): Protocol | undefined {
  const n = Math.min(first.length, H2_PREFACE.length);
  if (!first.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return 'http/1.1';
  return n === H2_PREFACE.length ? 'h2c' : undefined;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Transport {
  /** The listening socket's server (listen, address, close). */
  readonly server: net.Server;
  /** Ends every connection: HTTP/1.1 sockets, HTTP/2 sessions and connections still undecided. */
  closeAll(): void;
}

export function createTransport(handle: RequestHandler, opts: { keepAliveTimeout: number; tls?: ServingCertificate }): Transport {
  // The compatibility API gives the handler the request and response shapes of node:http; the few
  // differences (no connection-specific headers, `:authority` for Host) are handled where they matter.
  const h2handle = handle as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  const settings = { maxConcurrentStreams: H2_MAX_STREAMS, initialWindowSize: H2_STREAM_WINDOW };
  const sessions = new Set<http2.ServerHttp2Session>();
  // Every accepted socket, whichever protocol it speaks (an http.Server that never listened itself does
  // not track the connections it is handed, so closeAllConnections would miss them).
  const connections = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  };
  const watchSessions = (h2: http2.Http2Server | http2.Http2SecureServer) => {
    h2.on('session', (s: http2.ServerHttp2Session) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    // A peer that breaks the protocol loses its session, not the server.
    h2.on('sessionError', () => undefined);
  };
  const closeAll = () => {
    for (const s of sessions) s.destroy();
    sessions.clear();
    for (const c of connections) c.destroy();
    connections.clear();
  };

  if (opts.tls) {
    // ALPN offers h2 and http/1.1; the secure server hands HTTP/1.1 requests to the same handler.
    // Node's HTTP/2 server picks the cipher by its own order, which starts with AES-256-GCM; kube-apiserver
    // (Go's crypto/tls) picks AES-128-GCM first on machines with AES instructions. The same order here.
    const ciphers = `${GO_TLS13_SUITES}:${tls.DEFAULT_CIPHERS.split(':').filter((c) => !GO_TLS13_SUITES.includes(c)).join(':')}`;
    const secure = http2.createSecureServer({ key: opts.tls.key, cert: opts.tls.cert, allowHTTP1: true, settings, ciphers }, h2handle);
    // Its HTTP/1.1 connections keep idle sockets as long as the plain server's do.
    (secure as unknown as { keepAliveTimeout: number }).keepAliveTimeout = opts.keepAliveTimeout;
    watchSessions(secure);
    secure.on('connection', track);
    // Small event frames and records must not wait for Nagle.
    secure.on('secureConnection', (s: net.Socket) => s.setNoDelay(true));
    // A failed handshake (a client that does not trust the certificate) ends that connection only.
    secure.on('tlsClientError', () => undefined);
    return { server: secure, closeAll };
  }

  const h1 = http.createServer(handle);
  h1.keepAliveTimeout = opts.keepAliveTimeout;
  const h2 = http2.createServer({ settings }, h2handle);
  watchSessions(h2);

  const server = net.createServer((socket) => {
    track(socket);
    let first: Buffer = Buffer.alloc(0);
    const forget = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
    };
    const onError = () => {
      forget();
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      first = first.length ? Buffer.concat([first, chunk]) : chunk;
      const protocol = sniffProtocol(first);
      if (!protocol) return;
      forget();
      // Hand the bytes back and the socket over; the chosen server reads it from the start.
      socket.pause();
      socket.unshift(first);
      if (protocol === 'h2c') {
        // Every stream's frames share this socket: small event frames must not wait for Nagle.
        socket.setNoDelay(true);
        h2.emit('connection', socket);
      } else h1.emit('connection', socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.setTimeout(FIRST_BYTES_TIMEOUT_MS, onError);
  });

  return { server, closeAll };
}
