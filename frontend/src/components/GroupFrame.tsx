// A group drawn as a labelled frame behind its nodes (the template's five blocks). Its group,
// place in the list and member count come in its data (lib/canvasElements).
import { memo, type CSSProperties } from "react";
import { NodeResizer, type NodeProps } from "@xyflow/react";
import { loc, useLang } from "../i18n";
import type { FrameNode } from "../lib/canvasElements";
import { useEditor } from "../store/editor";

const TINTS = ["#4f8cff", "#2fbf71", "#2ec4b6", "#f2a33a", "#ff5c7a", "#a06bff", "#5ad1ff"];

export const GroupFrame = memo(function GroupFrame({ data, selected }: NodeProps<FrameNode>) {
  const lang = useLang((s) => s.lang);
  const { group, index, members } = data;
  const tint = TINTS[index % TINTS.length];
  return (
    <div className={`group-frame ${selected ? "selected" : ""}`} style={{ "--tint": tint } as CSSProperties}
      data-testid="group-frame" data-group={group.id}>
      <NodeResizer
        isVisible={selected}
        minWidth={160}
        minHeight={100}
        lineClassName="group-resize-line"
        handleClassName="group-resize-handle"
        onResizeStart={() => useEditor.getState().beginDrag()}
        onResize={(_, p) => useEditor.getState().resizeGroup(group.id, p.width, p.height, { x: p.x, y: p.y })}
        onResizeEnd={() => useEditor.getState().endDrag()}
      />
      <div className="group-label">
        <span className="group-dot" />
        {loc(group.label, lang) || group.id}
        <span className="group-count">{members}</span>
      </div>
    </div>
  );
});
