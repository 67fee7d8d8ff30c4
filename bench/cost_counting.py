"""Counting a graph's weights and FLOPs while editing (issue 16): from shapes, as the server
does (``backend.engine.cost``), against building each model on torch's meta device and
running ``FlopCounterMode`` (the alternative the issue names).

Times (median of --runs), for both templates and a generated 1,000-node graph
(validate_graphs.make_graph):

- validate_ms: ``validate`` (what every edit costs already)
- costs_ms: ``graph_costs`` on that validation (what this adds to every edit)
- meta_ms: the templates' models built on the meta device and counted by FlopCounterMode
  (torch imported beforehand: its import, ~2 s, would come on top in the server)

and the ratios meta / costs. The counts agree (tests/components/test_costs.py).

    .venv/bin/python bench/cost_counting.py [--runs 7]
"""
from __future__ import annotations

import argparse
import time

import _common as c


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return c.median(times)


def _meta_count(graph, v, registry) -> None:
    """Every layer chain's end built on the meta device and counted by torch."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from components.torchkit.model import StagedModel
    from components.values import LayerSpec

    into = {e.target: e.source for e in graph.edges if e.targetHandle == "input"}
    by_id = {n.id: n for n in graph.nodes}
    for nid, comp in ((n.id, registry.get(n.type)) for n in graph.nodes):
        if comp is None or not hasattr(comp, "stage_costs") or nid not in v.specs:
            continue
        chain, cur = [], nid
        while cur in into:
            src = into[cur]
            part = registry.get(by_id[cur].type)
            chain.append(LayerSpec(cur, part.id, part.version, v.params[cur].model_dump(mode="json"),
                                   v.specs[src]["output"].shape, v.specs[cur]["output"].shape))
            cur = src
        chain.reverse()
        h, w, ch = chain[0].in_shape
        with torch.device("meta"):
            model = StagedModel(chain, pretrained=False)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model.eval()(torch.zeros(1, ch, h, w, device="meta"))
        sum(p.numel() for p in model.parameters())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    import components
    from backend.engine import Graph, validate
    from backend.engine.cost import graph_costs
    from backend.engine.templates import find_template
    from validate_graphs import make_graph

    registry = components.registry
    out = {}
    cases = {"vgg16_template": find_template("model_optimization_finetuning")["graph"],
             "lite0_template": find_template("model_optimization_finetuning_offline")["graph"],
             "generated_1000": make_graph(1000)}
    for name, doc in cases.items():
        graph = Graph.model_validate(doc)
        v = validate(graph, registry)
        row = {"validate_ms": c.r3(_median_ms(lambda: validate(graph, registry), args.runs)),
               "costs_ms": c.r3(_median_ms(lambda: graph_costs(graph, v, registry), args.runs))}
        if name.endswith("template"):
            import torch  # noqa: F401  (its import is not what is compared)

            _meta_count(graph, v, registry)  # warm
            row["meta_ms"] = c.r3(_median_ms(lambda: _meta_count(graph, v, registry), args.runs))
            row["meta_over_costs"] = c.r3(row["meta_ms"] / row["costs_ms"])
        c.log(name, row)
        out[name] = row
    c.summary("cost_counting", out)


if __name__ == "__main__":
    main()
