import { describe, expect, it } from "vitest";
import { carriesFiles, droppedFile, modelDropDone, modelDropError } from "./modelDrop";

const CJK = /[\u4e00-\u9fff]/;

describe("a model file dropped on the home page", () => {
  it("reacts only to drags that carry files", () => {
    expect(carriesFiles(["Files"])).toBe(true);
    expect(carriesFiles(["text/plain", "Files"])).toBe(true);
    expect(carriesFiles(["text/plain"])).toBe(false);
    expect(carriesFiles(["application/reactflow"])).toBe(false);
    expect(carriesFiles(undefined)).toBe(false);
  });

  it("imports the first file dropped", () => {
    const a = new File(["a"], "a.pt");
    const b = new File(["b"], "b.pt");
    expect(droppedFile([a, b])).toBe(a);
    expect(droppedFile([])).toBeNull();
    expect(droppedFile(null)).toBeNull();
  });

  it("words the server's typed errors in the person's language, naming the file", () => {
    for (const code of ["not_a_model", "invalid_provenance"]) {
      expect(modelDropError({ code, message: "not an Abacus model file (BadZipFile)" }, "cat.jpg", "en"))
        .toBe("“cat.jpg” is not an Abacus model file.");
      const zh = modelDropError({ code, message: "not an Abacus model file (BadZipFile)" }, "cat.jpg", "zh");
      expect(zh).toContain("cat.jpg");
      expect(zh).toMatch(CJK);
      expect(zh).not.toContain("BadZipFile");   // never the server's English words
    }
    expect(modelDropError({ code: "no_provenance", message: "x" }, "old.pt", "zh")).toMatch(/old\.pt.*来源/);
    expect(modelDropError({ code: "upload_too_large", message: "x" }, "big.pt", "en")).toContain("larger");
    expect(modelDropError({ code: "network", message: "Failed to fetch" }, "m.pt", "zh"))
      .toBe("无法打开“m.pt”：Failed to fetch");
  });

  it("says whether the nodes that made the model show as cached", () => {
    expect(modelDropDone("imported", "train", "en")).toContain("cached");
    expect(modelDropDone("stored", "train", "zh")).toMatch(/train.*已缓存/);
    expect(modelDropDone("absent", "train", "en")).toContain("train again");
  });
});
