// A lean HTTP/2 watch client for the sandbox benchmark, standing for client-go's: many watches multiplexed
// on one connection (up to the server's SETTINGS_MAX_CONCURRENT_STREAMS), frames decoded straight from the
// socket's reads into newline-delimited JSON lines, with flow control. It does what a watch needs and no
// more: GET requests, the response's :status, DATA, SETTINGS, PING, WINDOW_UPDATE, RST_STREAM and GOAWAY.
//
// Why not Node's http2 client: it hands every DATA frame to a Readable stream of its own (a push, a 'data'
// event and a nextTick per frame), which costs about as much again as the JSON.parse the benchmark's floor
// measures. client-go pays nothing like it, and the benchmark measures the API server's delivery, so its
// clients are as lean as the protocol allows — as the HTTP/1.1 reader (WatchDecoder) already is.
import net from 'node:net';
import tls from 'node:tls';
import { LineSplitter } from '../src/kube/http';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER = 9;

// Frame types and flags (RFC 9113 §6).
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

// Settings (RFC 9113 §6.5.2).
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

/** client-go's flow-control windows (golang.org/x/net/http2's transport): 4 MiB per stream, 1 GiB per connection. */
export const STREAM_WINDOW = 4 << 20;
export const CONNECTION_WINDOW = 1 << 30;
const DEFAULT_WINDOW = 65_535;


/** :status values HPACK's static table holds (RFC 7541 Appendix A, indexes 8–14). */
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** One HTTP/2 frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId & 0x7fffffff, 5);
  payload.copy(b, FRAME_HEADER);
  return b;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A literal header field without indexing whose name is the static table's entry `nameIndex` (RFC 7541 §6.2.2). */
function literalIndexedName(nameIndex: number, value: string): number[] {
  const v = Buffer.from(value, 'latin1');
  return [...hpackInt(nameIndex, 4, 0x00), ...hpackInt(v.length, 7, 0x00), ...v];
}

/** The header block of `GET path` (HPACK, no Huffman coding, nothing added to the server's dynamic table). */
export function getRequestBlock(path: string, authority: string, scheme: 'http' | 'https'): Buffer {
  return Buffer.from([
    0x82, // :method GET (static 2)
    scheme === 'https' ? 0x87 : 0x86, // :scheme (static 7 / 6)
    ...literalIndexedName(4, path), // :path
    ...literalIndexedName(1, authority), // :authority
    ...literalIndexedName(19, 'application/json'), // accept
  ]);
}

/**
 * The :status of a response header block, when the block opens with it as an indexed static entry, as
 * every HPACK encoder does for the statuses the static table holds; undefined otherwise. Dynamic table
 * size updates may come first and are skipped. The rest of the block is not decoded: a watch needs only
 * the status, and this client never reads an entry the server added to its dynamic table.
 */
export function statusOf(block: Buffer): number | undefined {
  let i = 0;
  // Dynamic table size update: 001xxxxx with a 5-bit prefix integer.
  while (i < block.length && (block[i] & 0xe0) === 0x20) {
    if ((block[i] & 0x1f) === 0x1f) {
      i++;
      while (i < block.length && block[i] & 0x80) i++;
    }
    i++;
  }
  if (i >= block.length || !(block[i] & 0x80)) return undefined;
  return STATIC_STATUS[block[i] & 0x7f];
}

/** What a watch stream reports: its response status, each line of its body, and its end. */
export interface StreamHandlers {
  onHeaders(status: number | undefined): void;
  onLine(line: string): void;
  onEnd(reason: string): void;
}

/** One watch stream as the connection sees it. */
interface StreamState extends StreamHandlers {
  id: number;
  /** Its body's newline-delimited lines (a line may span DATA frames). */
  lines: LineSplitter;
  /** DATA bytes consumed since the last stream WINDOW_UPDATE. */
  unacked: number;
}

/**
 * Decodes the frames of one connection from its reads (a frame may span reads, a read may hold many
 * frames) and says what to write back (SETTINGS and PING acknowledgements, WINDOW_UPDATEs). Pure of I/O,
 * so a test can feed it the server's bytes split anywhere.
 */
export class H2Reader {
  private carry: Buffer | undefined;
  private prefaceSeen = false;
  private connectionUnacked = 0;
  private readonly streams = new Map<number, StreamState>();
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, once its first SETTINGS frame arrived. */
  maxConcurrentStreams: number | undefined;

  constructor(
    private readonly write: (b: Buffer) => void,
    private readonly onSettings: () => void,
    private readonly onConnectionError: (message: string) => void,
  ) {}

  /** Follows stream `id` (its request is the caller's to send). */
  open(id: number, handlers: StreamHandlers): void {
    this.streams.set(id, { id, lines: new LineSplitter(), unacked: 0, ...handlers });
  }

  push(input: Buffer): void {
    const buf = this.carry ? Buffer.concat([this.carry, input]) : input;
    this.carry = undefined;
    let pos = 0;
    while (buf.length - pos >= FRAME_HEADER) {
      const length = buf.readUIntBE(pos, 3);
      if (buf.length - pos < FRAME_HEADER + length) break;
      const type = buf[pos + 3];
      const flags = buf[pos + 4];
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
      this.onFrame(type, flags, streamId, buf, pos + FRAME_HEADER, pos + FRAME_HEADER + length);
      pos += FRAME_HEADER + length;
    }
    if (pos < buf.length) this.carry = Buffer.from(buf.subarray(pos));
  }

  private onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (!this.prefaceSeen && type !== SETTINGS) return this.onConnectionError(`expected the server's SETTINGS first, got frame type ${type}`);
    switch (type) {
      case DATA:
        return this.onData(flags, streamId, buf, start, end);
      case HEADERS: {
        const s = this.streams.get(streamId);
        if (!s) return;
        const [from, to] = unpadded(flags, buf, start, end);
        s.onHeaders(statusOf(buf.subarray(flags & PRIORITY ? from + 5 : from, to)));
        if (flags & END_STREAM) this.endStream(s, 'the server ended the stream with its headers');
        return;
      }
      case RST_STREAM: {
        const s = this.streams.get(streamId);
        if (s) this.endStream(s, `the server reset the stream (error code ${buf.readUInt32BE(start)})`);
        return;
      }
      case SETTINGS:
        if (flags & ACK) return;
        for (let i = start; i + 6 <= end; i += 6) {
          if (buf.readUInt16BE(i) === SETTINGS_MAX_CONCURRENT_STREAMS) this.maxConcurrentStreams = buf.readUInt32BE(i + 2);
        }
        this.write(frame(SETTINGS, ACK, 0));
        if (!this.prefaceSeen) {
          this.prefaceSeen = true;
          this.maxConcurrentStreams ??= Infinity;
          this.onSettings();
        }
        return;
      case PING:
        if (!(flags & ACK)) this.write(frame(PING, ACK, 0, Buffer.from(buf.subarray(start, end))));
        return;
      case GOAWAY:
        return this.onConnectionError(`the server sent GOAWAY (error code ${buf.readUInt32BE(start + 4)}): ${buf.toString('utf8', start + 8, end)}`);
      default:
        // WINDOW_UPDATE (this client sends no data), PRIORITY, CONTINUATION of a block whose status was read.
        return;
    }
  }

  private onData(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    // Flow control counts the whole payload, padding included (RFC 9113 §6.9).
    this.consumed(streamId, end - start);
    const s = this.streams.get(streamId);
    if (!s) return;
    const [from, to] = unpadded(flags, buf, start, end);
    s.lines.push(buf.subarray(from, to), s.onLine);
    if (flags & END_STREAM) this.endStream(s, 'the server ended the stream');
  }

  /** Gives back window as data is consumed, half a window at a time (what nghttp2 and Go's transport do). */
  private consumed(streamId: number, n: number): void {
    if (n === 0) return;
    this.connectionUnacked += n;
    if (this.connectionUnacked >= CONNECTION_WINDOW / 2) {
      this.write(windowUpdate(0, this.connectionUnacked));
      this.connectionUnacked = 0;
    }
    const s = this.streams.get(streamId);
    if (!s) return;
    s.unacked += n;
    if (s.unacked >= STREAM_WINDOW / 2) {
      this.write(windowUpdate(streamId, s.unacked));
      s.unacked = 0;
    }
  }

  private endStream(s: StreamState, reason: string): void {
    this.streams.delete(s.id);
    s.onEnd(reason);
  }
}

/** A DATA or HEADERS payload without its padding (RFC 9113 §6.1): the pad length byte and the pad. */
function unpadded(flags: number, buf: Buffer, start: number, end: number): [number, number] {
  return flags & PADDED ? [start + 1, end - buf[start]] : [start, end];
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment & 0x7fffffff, 0);
  return frame(0x8, 0, streamId, p);
}

/** What opens a connection: preface, SETTINGS (no push, client-go's stream window) and the connection window. */
export function clientPreface(): Buffer {
  const settings = Buffer.allocUnsafe(12);
  settings.writeUInt16BE(SETTINGS_ENABLE_PUSH, 0);
  settings.writeUInt32BE(0, 2);
  settings.writeUInt16BE(SETTINGS_INITIAL_WINDOW_SIZE, 6);
  settings.writeUInt32BE(STREAM_WINDOW, 8);
  return Buffer.concat([PREFACE, frame(SETTINGS, 0, 0, settings), windowUpdate(0, CONNECTION_WINDOW - DEFAULT_WINDOW)]);
}

export interface LeanWatch {
  received: number;
  close(): void;
}

/**
 * `count` watches of `path` on as few connections as the server's stream limit allows, over cleartext
 * (prior knowledge) or TLS with ALPN h2. Resolves once every watch has its 200 response.
 */
export async function openLeanH2Watches(base: string, path: string, count: number, onLine: (line: string, watch: number) => void, ca?: string): Promise<{ clients: LeanWatch[]; connections: number; close(): void }> {
  const url = new URL(base);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const connections: { close(): void }[] = [];
  const clients: LeanWatch[] = [];
  const close = () => connections.forEach((c) => c.close());
  try {
    while (clients.length < count) {
      const first = clients.length;
      const opened = await openConnection(url, scheme, path, count - clients.length, (line, k) => onLine(line, first + k), ca);
      connections.push(opened);
      clients.push(...opened.watches);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { clients, connections: connections.length, close };
}

async function openConnection(url: URL, scheme: 'http' | 'https', path: string, wanted: number, onLine: (line: string, watch: number) => void, ca?: string) {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (scheme === 'https' ? 443 : 80));
  // Reads land in one reused buffer (the reader copies what it keeps), as in the HTTP/1.1 reader: a fresh
  // buffer per read is external memory V8 answers with full collections, whose pauses hit deliveries.
  let reader: H2Reader | undefined;
  let fail: (message: string) => void = () => {};
  const onread = {
    buffer: Buffer.allocUnsafe(1 << 18),
    callback: (n: number, buf: Uint8Array) => {
      try {
        reader?.push(Buffer.from(buf.buffer, buf.byteOffset, n));
      } catch (e) {
        fail((e as Error).message);
      }
      return true;
    },
  };
  const socket: net.Socket =
    scheme === 'https'
      ? tls.connect({ host, port, ca, ALPNProtocols: ['h2'], servername: net.isIP(host) ? undefined : host, onread } as tls.ConnectionOptions)
      : net.connect({ host, port, onread });
  socket.setNoDelay(true);
  return new Promise<{ close(): void; watches: LeanWatch[] }>((resolve, reject) => {
    let settled = false;
    let closing = false;
    const close = () => {
      closing = true;
      socket.destroy();
    };
    fail = (message: string) => {
      if (closing) return;
      if (!settled) {
        settled = true;
        closing = true;
        socket.destroy();
        reject(new Error(`lean HTTP/2 watch ${url.host}${path}: ${message}`));
      } else console.error(`lean HTTP/2 watch: ${message}`);
    };
    const r = new H2Reader(
      (b) => socket.write(b),
      () => {
        const n = Math.min(wanted, r.maxConcurrentStreams ?? wanted);
        const watches: LeanWatch[] = [];
        let ok = 0;
        const block = getRequestBlock(path, url.host, scheme);
        for (let k = 0; k < n; k++) {
          const id = 1 + 2 * k;
          const w: LeanWatch = { received: 0, close: () => socket.write(frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8]))) };
          r.open(id, {
            onHeaders: (status) => {
              if (status !== 200) return fail(`stream ${id}: HTTP ${status ?? '(status not in the static table)'}`);
              if (++ok === n && !settled) {
                settled = true;
                resolve({ close, watches });
              }
            },
            onLine: (line) => {
              w.received++;
              onLine(line, k);
            },
            onEnd: (reason) => fail(`stream ${id}: ${reason}`),
          });
          watches.push(w);
          socket.write(frame(HEADERS, END_STREAM | END_HEADERS, id, block));
        }
      },
      fail,
    );
    reader = r;
    const start = () => {
      if (scheme === 'https' && (socket as tls.TLSSocket).alpnProtocol !== 'h2') return fail(`the server did not negotiate h2 (ALPN: ${(socket as tls.TLSSocket).alpnProtocol})`);
      socket.write(clientPreface());
    };
    socket.once(scheme === 'https' ? 'secureConnect' : 'connect', start);
    socket.on('error', (e) => fail(e.message));
    socket.on('close', () => fail('connection closed'));
  });
}
