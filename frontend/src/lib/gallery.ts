// The evaluation's sample photos as a grid that fits the box it has: as many columns as give the
// largest tiles while every row still fits the height, so no photo needs scrolling to be seen.

export interface GridFit {
  columns: number;
  /** Tile width in CSS pixels; a tile is `tile * aspect` high. */
  tile: number;
}

/**
 * The columns and tile width for `count` tiles of height `aspect` x width in a `width` x `height`
 * box with `gap` between them; tiles are at most `max` wide and, when even one row would have to
 * be smaller than `min`, `min` wide (the box then scrolls rather than shows specks).
 */
export function fitGrid(count: number, width: number, height: number,
  { gap = 6, aspect = 0.75, min = 40, max = 168 }: { gap?: number; aspect?: number; min?: number; max?: number } = {}): GridFit {
  if (count <= 0 || width <= 0) return { columns: 1, tile: max };
  let best: GridFit = { columns: 1, tile: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const byWidth = (width - gap * (columns - 1)) / columns;
    const byHeight = height > 0 ? ((height - gap * (rows - 1)) / rows) / aspect : Infinity;
    const tile = Math.min(byWidth, byHeight, max);
    if (tile > best.tile + 0.5) best = { columns, tile };
  }
  if (best.tile < min) {
    // Too many to fit: tiles of the smallest size, as many to a row as the width holds.
    const columns = Math.max(1, Math.min(count, Math.floor((width + gap) / (min + gap))));
    return { columns, tile: min };
  }
  return { columns: best.columns, tile: Math.floor(best.tile) };
}
