import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isFinalClose, openStream, setWebSocketClass } from "./socket";

/** The browser's WebSocket as the server side of the test drives it. */
class FakeSocket extends EventTarget {
  static all: FakeSocket[] = [];
  readyState = 0; // CONNECTING
  binaryType = "blob";
  constructor(public url: string) {
    super();
    FakeSocket.all.push(this);
  }
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  /** The server closes (code 1006: the connection was lost). */
  serverClose(code: number, reason = "") {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason, wasClean: code !== 1006 }));
  }
  failToConnect() {
    this.readyState = 3;
    this.dispatchEvent(new Event("error"));
    this.dispatchEvent(Object.assign(new Event("close"), { code: 1006, reason: "" }));
  }
  close() {
    this.readyState = 3;
  }
}

const connect = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  FakeSocket.all = [];
  setWebSocketClass(FakeSocket as unknown as typeof WebSocket);
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  setWebSocketClass(undefined);
});

function open() {
  const handlers = { onMessage: vi.fn(), onOpen: vi.fn(), onDrop: vi.fn(), onEnd: vi.fn() };
  const stream = openStream(() => "ws://test/api/ws/runs/abc?after=7", handlers);
  return { stream, handlers };
}

describe("openStream", () => {
  it("stops for good when the server closes normally (the run is over)", async () => {
    const { handlers } = open();
    await connect();
    FakeSocket.all[0].open();
    FakeSocket.all[0].serverClose(1000, "run finished");
    expect(handlers.onEnd).toHaveBeenCalledWith(1000, "run finished");
    expect(handlers.onDrop).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1); // no reconnect loop to a finished run
  });

  it("stops for good when the server refuses the stream (4400, 4404)", async () => {
    for (const code of [4400, 4404]) {
      FakeSocket.all = [];
      const { handlers } = open();
      await connect();
      FakeSocket.all[0].open();
      FakeSocket.all[0].serverClose(code, "no run with id 'abc'");
      expect(handlers.onEnd).toHaveBeenCalledWith(code, "no run with id 'abc'");
      await vi.advanceTimersByTimeAsync(60_000);
      expect(FakeSocket.all).toHaveLength(1);
    }
  });

  it("reconnects after a drop, a server restart or a failed connection", async () => {
    const { handlers, stream } = open();
    await connect();
    FakeSocket.all[0].open();
    FakeSocket.all[0].serverClose(1006);
    expect(handlers.onDrop).toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.all[1].open();
    FakeSocket.all[1].serverClose(1012, "service restart");
    await vi.advanceTimersByTimeAsync(2000);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.all[2].failToConnect(); // partysocket closes it itself (code 1000): still a drop
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeSocket.all.length).toBeGreaterThanOrEqual(4);
    expect(handlers.onEnd).not.toHaveBeenCalled();
    stream.close();
    const made = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(made);
    expect(handlers.onEnd).not.toHaveBeenCalled(); // our own close is not the server's
  });

  it("tells final close codes from drops", () => {
    expect([1000, 4400, 4404, 4499].every(isFinalClose)).toBe(true);
    expect([1001, 1006, 1011, 1012, 4000, 4500, undefined].some(isFinalClose)).toBe(false);
  });
});
