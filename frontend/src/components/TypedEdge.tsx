// An edge coloured by the type it carries, red when validation blames it, animated while its target runs.
// What it shows comes in its data (lib/canvasElements), so it re-renders only when that changes.
import { memo } from "react";
import { BaseEdge, getBezierPath, type EdgeProps } from "@xyflow/react";
import type { TypedEdgeType } from "../lib/canvasElements";
import { portColor } from "./common";

export const TypedEdge = memo(function TypedEdge(props: EdgeProps<TypedEdgeType>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, selected, data } = props;
  const bad = data?.bad ?? false;
  const flowing = data?.flowing ?? false;
  const [path] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, curvature: 0.35 });
  const color = bad ? "#ff4d5e" : portColor(data?.type ?? "");
  return (
    <BaseEdge
      id={id}
      path={path}
      className={`typed-edge ${selected ? "selected" : ""} ${flowing ? "flowing" : ""} ${bad ? "bad" : ""}`}
      style={{ stroke: color, strokeWidth: selected ? 3 : 2, opacity: selected || flowing || bad ? 1 : 0.75 }}
      interactionWidth={18}
    />
  );
});
