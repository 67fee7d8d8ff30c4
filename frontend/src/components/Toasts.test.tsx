import { act, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { translate, useLang } from "../i18n";
import { useUi } from "../store/ui";
import { Toasts } from "./Toasts";

afterEach(() => useUi.setState({ toasts: [] }));

describe("toasts", () => {
  it("follow the language when it is switched while they are open", () => {
    useLang.getState().setLang("zh");
    render(<Toasts />);
    act(() => useUi.getState().toast((lang) => translate(lang, "toast.copied", { n: 3 })));
    expect(screen.getByTestId("toast").textContent).toBe("已复制 3 个节点");
    act(() => useLang.getState().setLang("en"));
    expect(screen.getByTestId("toast").textContent).toBe("Copied 3 nodes");
  });

  it("keep a server's message as it came, and show the same words once", () => {
    useLang.getState().setLang("en");
    render(<Toasts />);
    act(() => {
      useUi.getState().toast("connection refused", "error");
      useUi.getState().toast((lang) => translate(lang, "toast.copied", { n: 2 }));
      useUi.getState().toast((lang) => translate(lang, "toast.copied", { n: 2 }));
    });
    expect(screen.getAllByTestId("toast").map((el) => el.textContent)).toEqual(["connection refused", "Copied 2 nodes"]);
  });
});
