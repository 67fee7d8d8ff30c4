// One reconnecting websocket for every live stream of the editor (a run's events, a project's
// runs): partysocket's ReconnectingWebSocket with one back-off policy. The URL is asked for
// again before each connection, so a stream can resume after the last event it has seen.
import ReconnectingWebSocket, { type Options } from "partysocket/ws";

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

/** Connect to `url()` and keep connecting after every drop until `close()`. */
export function openStream(url: () => string, handlers: StreamHandlers): LiveStream {
  const socket = new ReconnectingWebSocket(url, undefined, { ...BACK_OFF, WebSocket: WebSocketClass });
  let closed = false;
  socket.onopen = () => handlers.onOpen?.();
  socket.onmessage = (message) => handlers.onMessage(message);
  socket.onclose = () => {
    if (!closed) handlers.onDrop?.();
  };
  return {
    close: () => {
      closed = true;
      socket.close();
    },
  };
}
