// One reconnecting websocket for every live stream of the editor (a run's events, a project's
// runs): partysocket's ReconnectingWebSocket with one back-off policy. The URL is asked for
// again before each connection, so a stream can resume after the last event it has seen.
import ReconnectingWebSocket, { CloseEvent as ClientClose, type Options } from "partysocket/ws";

/** Reconnect at once after the first drop, then back off (x2) up to 5 s. */
const BACK_OFF: Options = {
  minReconnectionDelay: 300,
  maxReconnectionDelay: 5000,
  reconnectionDelayGrowFactor: 2,
  connectionTimeout: 4000,
  minUptime: 2000, // a connection that held this long resets the back-off
};

export interface StreamHandlers {
  onMessage: (message: MessageEvent) => void;
  onOpen?: () => void;
  /** The connection dropped; a new one is on its way. */
  onDrop?: () => void;
  /** The server ended the stream for good (see `isFinalClose`): no reconnect. */
  onEnd?: (code: number, reason: string) => void;
}

/**
 * Close codes after which connecting again cannot help: 1000, the server is done (a run's stream
 * ends when the run is over, reason "run finished" / "run failed" / "run cancelled"), and 4400-4499,
 * it refused the stream (4400 a malformed request, 4404 no such run or project). Anything else
 * (1001, 1006, 1011, 1012, ...) is a drop, and the stream reconnects.
 */
export function isFinalClose(code: number | undefined): boolean {
  return code === 1000 || (typeof code === "number" && code >= 4400 && code < 4500);
}

/** The server closed the stream for good. partysocket reports its own closes (ours, and the one it
 * makes after an error or a connection timeout, code 1000 too) with its own event class: not final. */
function endedByServer(event: { code?: number }): boolean {
  return !(event instanceof ClientClose) && isFinalClose(event.code);
}

export interface LiveStream {
  /** Stop for good: no reconnect. */
  close: () => void;
}

// The browser's WebSocket; tests put an in-process socket class here (a transport, not our code).
let WebSocketClass: typeof WebSocket | undefined;
export function setWebSocketClass(socketClass: typeof WebSocket | undefined) {
  WebSocketClass = socketClass;
}

/** Connect to `url()` and keep connecting after every drop until `close()` or the server ends the stream. */
export function openStream(url: () => string, handlers: StreamHandlers): LiveStream {
  const socket = new ReconnectingWebSocket(url, undefined, {
    ...BACK_OFF,
    WebSocket: WebSocketClass,
    shouldReconnectOnClose: (event) => !endedByServer(event),
  });
  let closed = false;
  socket.onopen = () => handlers.onOpen?.();
  socket.onmessage = (message) => handlers.onMessage(message);
  socket.onclose = (event) => {
    if (closed) return;
    if (endedByServer(event)) {
      closed = true;
      socket.close();
      handlers.onEnd?.(event.code, event.reason ?? "");
    } else handlers.onDrop?.();
  };
  return {
    close: () => {
      closed = true;
      socket.close();
    },
  };
}
