import { describe, expect, it } from "vitest";
import { datasetName } from "./datasetUpload";
import { uploadErrorText } from "./messages";

describe("datasetName", () => {
  it("makes a name the server accepts from the archive's file name", () => {
    expect(datasetName("flowers.zip")).toBe("flowers");
    expect(datasetName("My photos (2).tar.gz")).toBe("My_photos_2");
    expect(datasetName("花卉.tgz")).toBe("花卉");
    expect(datasetName("../.hidden.tar")).toBe("hidden");
    expect(datasetName("!!!.zip")).toBe("dataset");
    expect(datasetName("x".repeat(100) + ".zip")).toHaveLength(56);
  });

  it("does not take a name already uploaded", () => {
    expect(datasetName("flowers.zip", ["flowers", "flowers-2"])).toBe("flowers-3");
  });
});

describe("uploadErrorText", () => {
  it("words a refusal in both languages and keeps the server's English for an unknown code", () => {
    const slip = { code: "archive_unsafe_path", message: "x", params: { entry: "../x" } };
    expect(uploadErrorText(slip, "en")).toBe("the archive holds a path that leaves its folder: ../x");
    expect(uploadErrorText(slip, "zh")).toBe("压缩包中有指向其文件夹之外的路径：../x");
    expect(uploadErrorText({ code: "archive_ratio", message: "", params: { ratio: 100 } }, "zh")).toContain("100 倍");
    expect(uploadErrorText({ code: "brand_new", message: "the server's words" }, "zh")).toBe("the server's words");
  });
});
