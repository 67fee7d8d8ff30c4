import { describe, expect, it } from "vitest";
import { fitGrid } from "./gallery";

describe("the sample gallery's grid", () => {
  it("fits every photo in the box, as large as it can", () => {
    // eight photos in the evaluation panel's box: two rows of four (or five), none scrolled away
    const fit = fitGrid(8, 560, 200, { gap: 6, aspect: 0.75 });
    const rows = Math.ceil(8 / fit.columns);
    expect(rows).toBe(2);
    expect(rows * fit.tile * 0.75 + (rows - 1) * 6).toBeLessThanOrEqual(200);
    expect(fit.columns * fit.tile + (fit.columns - 1) * 6).toBeLessThanOrEqual(560);
    expect(fit.tile).toBeGreaterThan(100);
  });

  it("uses one row in a wide, low box and caps the tile size", () => {
    expect(fitGrid(4, 1200, 140, { max: 168 })).toEqual({ columns: 4, tile: 168 });
  });

  it("keeps a smallest tile when too many photos are asked for, and fills the rows", () => {
    const fit = fitGrid(64, 300, 100, { min: 40, gap: 6 });
    expect(fit.tile).toBe(40);
    expect(fit.columns).toBe(6);
  });

  it("has an answer before the box is measured", () => {
    expect(fitGrid(8, 0, 0).columns).toBe(1);
    expect(fitGrid(0, 500, 200).columns).toBe(1);
  });
});
