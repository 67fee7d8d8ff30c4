"""The arithmetic of a graph's costs: feature cache, time per epoch, GPU memory and its
warning, the worker's speed. (The counts against torch: tests/components/test_costs.py.)"""
import copy

import components
from backend.engine import Graph, validate
from backend.engine.cost import (DEFAULT_SPEED, SpeedFigure, SpeedSample, combine_samples, gpu_warning, graph_costs,
                                 trainer_work, weighted_median)
from backend.engine.templates import find_template

SIZES = {"train": 2000, "validation": 1000, "test": 1000}


def _offline(**changes) -> tuple[Graph, object]:
    doc = copy.deepcopy(find_template("model_optimization_finetuning_offline")["graph"])
    changes = {"format": {"augmentation": "none"}, **changes}   # plain images unless a test says otherwise
    for node in doc["nodes"]:
        node["params"].update(changes.get(node["id"], {}))
    g = Graph.model_validate(doc)
    return g, validate(g, components.registry)


def _costs(sizes=SIZES, speed=None, gpu_memory=None, **changes):
    g, v = _offline(**changes)
    return graph_costs(g, v, components.registry, sizes=lambda nid: sizes, speed=speed, gpu_memory=gpu_memory)


def test_feature_cache_is_the_frozen_fronts_output_for_training_and_validation_images():
    costs = _costs(format={"augmentation": "none"})
    first = costs["train"].training
    # EfficientNet-Lite0 at 150 px ends in 5x5x1280; Flatten (no weights) belongs to the frozen front
    assert first.feature_cache and first.feature_stage == "flatten"
    assert first.feature_bytes_per_image == 5 * 5 * 1280 * 4
    assert first.feature_cache_bytes == (2000 + 1000) * 5 * 5 * 1280 * 4
    # fine-tuning block7a and top caches the output of block6d (5x5x192)
    second = costs["train_finetuned"].training
    assert second.feature_stage == "backbone:block6d"
    assert second.feature_cache_bytes == 3000 * 5 * 5 * 192 * 4


def test_fixed_augmentation_variants_keep_the_cache_and_multiply_its_training_part():
    first = _costs(speed=DEFAULT_SPEED["cpu"], format={"augmentation": "fixed_flip_crops"})["train"].training
    assert first.feature_cache and first.feature_cache_bytes == (4 * 2000 + 1000) * 5 * 5 * 1280 * 4
    plain = _costs(speed=DEFAULT_SPEED["cpu"], format={"augmentation": "none"})["train"].training
    assert first.feature_seconds > plain.feature_seconds   # four passes over the training images, one over validation


def test_fixed_augmentation_variants_are_each_cached():
    g, v = _offline(format={"augmentation": "fixed_flip_crops"})
    variants = v.specs["format"]["images"].info["variants"]
    assert variants > 1
    training = graph_costs(g, v, components.registry, sizes=lambda nid: SIZES)["train"].training
    assert training.feature_cache_bytes == (2000 * variants + 1000) * 5 * 5 * 1280 * 4


def test_no_feature_cache_with_augmentation_or_when_turned_off():
    for changes in ({"format": {"augmentation": "flip"}}, {"train": {"feature_cache": False}}):
        training = _costs(**changes)["train"].training
        assert not training.feature_cache and training.feature_cache_bytes is None


def test_unknown_dataset_sizes_give_no_cache_size_and_no_time():
    training = _costs(sizes=None, speed=DEFAULT_SPEED["cpu"])["train"].training
    assert training.images is None and training.feature_cache_bytes is None and training.epoch_seconds is None
    assert training.feature_bytes_per_image == 128_000   # still known per image


def test_time_per_epoch_is_the_epochs_work_at_the_workers_speed():
    speed = SpeedFigure(train_flops_per_s=1e9, feature_flops_per_s=1e11, source="measured", samples=3)
    training = _costs(speed=speed)["train"].training
    g, v = _offline()
    work = trainer_work(g, v, components.registry, "train", 2000, 1000)
    # the head alone runs each epoch: Dense 32000->256 and 256->1, forward and backward
    head = 32000 * 256 + 256
    assert work.epoch_macs == 2000 * 3 * head + 1000 * head
    assert training.epoch_seconds == round(work.epoch_macs / 1e9, 1)
    assert training.feature_seconds == round(work.feature_macs / 1e11, 1)
    assert training.speed.source == "measured"
    # without the cache every epoch runs the backbone forward too
    uncached = trainer_work(*_offline(train={"feature_cache": False}), components.registry, "train", 2000, 1000)
    assert uncached.epoch_macs == work.epoch_macs + 3000 * work.prefix_macs


def test_gpu_memory_warning_carries_the_numbers():
    costs = _costs(gpu_memory=2**30)
    need = costs["train"].training.memory_bytes
    assert costs["train"].warnings == []   # 1 GiB is enough for the head on 128 KB features
    small = _costs(gpu_memory=need - 1)["train"]
    assert [w.code for w in small.warnings] == ["gpu_memory_exceeded"]
    assert small.warnings[0].params == {"need_gib": round(need / 2**30, 1), "have_gib": round((need - 1) / 2**30, 1)}
    assert gpu_warning("t", 10 * 2**30, 8 * 2**30).params == {"need_gib": 10.0, "have_gib": 8.0}
    assert gpu_warning("t", 1, None) is None   # no GPU reported: nothing to compare


def test_gpu_memory_counts_weights_gradients_optimizer_state_and_features():
    training = _costs()["train"].training
    params, trainable = 11_563_521, 8_192_513
    batch_activations = 20 * (256 + 1)   # after the cached prefix: the two Dense layers
    features = 3000 * 32000
    assert training.memory_bytes == 4 * (params + trainable * 2 + batch_activations + features)  # RMSprop: 1 state


def test_layer_nodes_take_the_batch_size_of_the_trainer_downstream():
    costs = _costs(train={"batch_size": 64})
    assert costs["dense"].model.batch_size == 64 and costs["dense"].model.batch_from == "train"
    g = Graph.model_validate({"nodes": [{"id": "in", "type": "layers.Input", "params": {}},
                                        {"id": "f", "type": "layers.Flatten", "params": {}}],
                              "edges": [{"source": "in", "sourceHandle": "output", "target": "f",
                                         "targetHandle": "input"}]})
    alone = graph_costs(g, validate(g, components.registry), components.registry)["f"].model
    assert (alone.batch_size, alone.batch_from) == (32, None)
    assert alone.activation_bytes == 32 * 4 * 150 * 150 * 3


def test_speed_is_the_median_of_the_workers_samples():
    samples = [SpeedSample("local/cpu", train_macs=10, train_seconds=1), SpeedSample("local/cpu", 30, 1),
               SpeedSample("local/cpu", 20, 1, feature_macs=500, feature_seconds=2),
               SpeedSample("ray/gpu", 1000, 1)]
    figure = combine_samples(samples, "local/cpu")
    assert figure.train_flops_per_s == 20 and figure.feature_flops_per_s == 250
    assert figure.source == "measured" and figure.samples == 4
    assert combine_samples(samples, "local/gpu") is None


def test_quick_runs_count_for_little_against_a_real_one():
    # five quick runs (0.5 s each, slow: fixed costs dominate) and one real run of 60 s
    quick = [SpeedSample("local/cpu", train_macs=5, train_seconds=0.5) for _ in range(5)]
    figure = combine_samples([*quick, SpeedSample("local/cpu", train_macs=6000, train_seconds=60)], "local/cpu")
    assert figure.train_flops_per_s == 100   # the plain median of the six rates would be 10
    assert weighted_median([(1, 1), (3, 1)]) == 2 and weighted_median([(5, 2)]) == 5


def test_a_large_graph_costs_in_linear_time():
    nodes = [{"id": "n0", "type": "layers.Input", "params": {}}]
    edges = []
    for i in range(1, 2000):
        nodes.append({"id": f"n{i}", "type": "layers.Dropout", "params": {"rate": 0.1}})
        edges.append({"source": f"n{i - 1}", "sourceHandle": "output", "target": f"n{i}", "targetHandle": "input"})
    g = Graph.model_validate({"nodes": nodes, "edges": edges})
    costs = graph_costs(g, validate(g, components.registry), components.registry)
    assert costs["n1999"].model.stages == 1999 and costs["n1999"].model.params == 0
