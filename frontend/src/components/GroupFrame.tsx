// A group drawn as a labelled frame behind its nodes (the template's five blocks).
import { memo, type CSSProperties } from "react";
import { NodeResizer, type NodeProps } from "@xyflow/react";
import { loc, useLang } from "../i18n";
import { useEditor } from "../store/editor";

const TINTS = ["#4f8cff", "#2fbf71", "#2ec4b6", "#f2a33a", "#ff5c7a", "#a06bff", "#5ad1ff"];

export const GroupFrame = memo(function GroupFrame({ data, selected }: NodeProps) {
  const lang = useLang((s) => s.lang);
  const groupId = (data as { group: string }).group;
  const group = useEditor((s) => s.graph.groups.find((g) => g.id === groupId));
  const index = useEditor((s) => s.graph.groups.findIndex((g) => g.id === groupId));
  const members = useEditor((s) => s.graph.nodes.filter((n) => n.group === groupId).length);
  const resizeGroup = useEditor((s) => s.resizeGroup);
  const beginDrag = useEditor((s) => s.beginDrag);
  const endDrag = useEditor((s) => s.endDrag);
  if (!group) return null;
  const tint = TINTS[index % TINTS.length];
  return (
    <div className={`group-frame ${selected ? "selected" : ""}`} style={{ "--tint": tint } as CSSProperties}
      data-testid="group-frame" data-group={groupId}>
      <NodeResizer
        isVisible={selected}
        minWidth={160}
        minHeight={100}
        lineClassName="group-resize-line"
        handleClassName="group-resize-handle"
        onResizeStart={() => beginDrag()}
        onResize={(_, p) => resizeGroup(groupId, p.width, p.height, { x: p.x, y: p.y })}
        onResizeEnd={() => endDrag()}
      />
      <div className="group-label">
        <span className="group-dot" />
        {loc(group.label, lang) || group.id}
        <span className="group-count">{members}</span>
      </div>
    </div>
  );
});
