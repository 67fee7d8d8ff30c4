// An edge coloured by the type it carries, red when validation blames it, animated while its target runs.
import { memo } from "react";
import { BaseEdge, getBezierPath, type EdgeProps } from "@xyflow/react";
import { portColor } from "./common";
import { useStatus } from "./context";
import { useEditor } from "../store/editor";

export const TypedEdge = memo(function TypedEdge(props: EdgeProps) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, selected, target, data } = props;
  const bad = useEditor((s) => s.validation?.issues.some((i) => i.edge === id) ?? false);
  const status = useStatus(target);
  const [path] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, curvature: 0.35 });
  const color = bad ? "#ff4d5e" : portColor(String((data as { type?: string })?.type ?? ""));
  const flowing = status.state === "running";
  return (
    <>
      <BaseEdge
        id={id}
        path={path}
        className={`typed-edge ${selected ? "selected" : ""} ${flowing ? "flowing" : ""} ${bad ? "bad" : ""}`}
        style={{ stroke: color, strokeWidth: selected ? 3 : 2, opacity: selected || flowing || bad ? 1 : 0.75 }}
        interactionWidth={18}
      />
    </>
  );
});
