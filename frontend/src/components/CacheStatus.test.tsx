import { afterEach, describe, expect, it, vi } from "vitest";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { api, ApiError } from "../api";
import { useLang } from "../i18n";
import { queryKeys } from "../lib/queries";
import { toastText, useUi } from "../store/ui";
import { CacheStatus, freedText, lastCleanupText, usageText } from "./CacheStatus";

const MB = 2 ** 20;
const GB = 2 ** 30;

const usage = (over: Partial<Parameters<typeof usageText>[0]> = {}): Parameters<typeof usageText>[0] => ({
  bytes: 1.2 * GB, entries: 14, models: 1, model_bytes: 300 * MB, max_bytes: 20 * GB, min_free_bytes: 0,
  keep_recent_s: 600, free_bytes: 66.1 * GB, last_prune: null, ...over,
});

const AT = new Date(2026, 10, 30, 16, 20).getTime() / 1000; // local time, as whenText shows it
const report = (over: Partial<Parameters<typeof lastCleanupText>[0]> = {}): Parameters<typeof lastCleanupText>[0] => ({
  at: AT, bytes_before: 1.2 * GB, bytes_after: 0.1 * GB, entries_before: 14, removed: 12, removed_models: 0,
  freed_bytes: 1.1 * GB, why: "size", short_bytes: 0, ...over,
});

afterEach(() => {
  vi.restoreAllMocks();
  useUi.setState({ toasts: [] });
});

describe("the cache's words", () => {
  it("say what the store holds, its limit and the disk's free space, in both languages", () => {
    expect(usageText(usage(), "en")).toBe("1.2 GB in 14 results · 1 trained model (300 MB) · limit 20.0 GB · 66.1 GB free on disk");
    expect(usageText(usage(), "zh")).toBe("已用 1.2 GB，共 14 项结果 · 已训练模型 1 个（300 MB）· 上限 20.0 GB · 磁盘剩余 66.1 GB");
  });

  it("count in the singular and the plural, and say when there is no limit or no model", () => {
    expect(usageText(usage({ entries: 1, models: 2, model_bytes: 600 * MB }), "en"))
      .toBe("1.2 GB in 1 result · 2 trained models (600 MB) · limit 20.0 GB · 66.1 GB free on disk");
    expect(usageText(usage({ bytes: 0, entries: 0, models: 0, model_bytes: 0, max_bytes: 0 }), "en"))
      .toBe("0 B in 0 results · no trained models · no limit · 66.1 GB free on disk");
    expect(usageText(usage({ bytes: 0, entries: 0, models: 0, model_bytes: 0, max_bytes: 0 }), "zh"))
      .toBe("已用 0 B，共 0 项结果 · 无已训练模型 · 容量不限 · 磁盘剩余 66.1 GB");
  });

  it("tell the last cleanup and what freeing up space did", () => {
    expect(lastCleanupText(report(), "en")).toBe("Last cleanup 11-30 16:20: removed 12 results (0 trained models), 1.1 GB");
    expect(lastCleanupText(report({ removed: 1, removed_models: 1, freed_bytes: 300 * MB }), "en"))
      .toBe("Last cleanup 11-30 16:20: removed 1 result (1 trained model), 300 MB");
    expect(lastCleanupText(report(), "zh")).toBe("上次清理 11-30 16:20：移除 12 项结果（其中已训练模型 0 个），共 1.1 GB");
    expect(freedText(report(), "en")).toBe("Freed 1.1 GB: removed 12 results");
    expect(freedText(report(), "zh")).toBe("已释放 1.1 GB：移除 12 项结果");
    expect(freedText(report({ removed: 0, freed_bytes: 0 }), "en")).toBe("Nothing to remove: the cache holds trained models only");
  });
});

describe("the cache section", () => {
  const shown = (data = usage({ last_prune: report() })) => {
    const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
    client.setQueryData(queryKeys.cache, data);
    return render(<QueryClientProvider client={client}><CacheStatus /></QueryClientProvider>);
  };
  const toasts = (lang: "zh" | "en") => useUi.getState().toasts.map((t) => toastText(t.text, lang));

  it("shows the usage and the last cleanup in the person's language", () => {
    useLang.getState().setLang("zh");
    shown();
    expect(screen.getByTestId("cache-usage").textContent).toContain("已用 1.2 GB，共 14 项结果");
    expect(screen.getByTestId("cache-last").textContent).toContain("上次清理 11-30 16:20");
    act(() => useLang.getState().setLang("en"));
    expect(screen.getByTestId("cache-usage").textContent).toContain("1.2 GB in 14 results");
  });

  it("asks first, then frees everything but the trained models", async () => {
    useLang.getState().setLang("en");
    const prune = vi.spyOn(api, "pruneCache").mockResolvedValue(report());
    vi.spyOn(api, "cache").mockResolvedValue(usage({ bytes: 0.1 * GB, entries: 2, last_prune: report() }));
    shown(usage());
    expect(screen.queryByTestId("cache-last")).toBeNull();
    fireEvent.click(screen.getByTestId("cache-free"));
    expect(screen.getByText(/Remove every cached result except trained models\?/)).toBeTruthy();
    expect(prune).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId("cache-free-confirm"));
    await waitFor(() => expect(toasts("en")).toEqual(["Freed 1.1 GB: removed 12 results"]));
    expect(prune).toHaveBeenCalledWith({ max_gb: 0.000001, keep_recent_s: 0, keep_models: true });
    expect(toasts("zh")).toEqual(["已释放 1.1 GB：移除 12 项结果"]);   // the toast follows a language switch
    await waitFor(() => expect(screen.getByTestId("cache-usage").textContent).toContain("in 2 results"));
    expect(screen.getByTestId("cache-last")).toBeTruthy();
  });

  it("says in the person's language that runs are going on", async () => {
    useLang.getState().setLang("zh");
    vi.spyOn(api, "pruneCache").mockRejectedValue(
      new ApiError(409, { code: "runs_active", message: "runs are going on: the cache is pruned when the last one has ended" }));
    shown();
    fireEvent.click(screen.getByTestId("cache-free"));
    fireEvent.click(screen.getByTestId("cache-free-confirm"));
    await waitFor(() => expect(toasts("zh")).toEqual(["有运行正在进行：请在运行结束后再释放空间"]));
    expect(toasts("en")).toEqual(["Runs are going on: free up space once they have ended"]);
  });
});
