#!/usr/bin/env python3
"""ONNX fixtures: one small seeded CNN per family, exported with both of torch's exporters, with onnxruntime's and
torch's numbers for the ONNX importer's tests.

ConvLens and its tests never import torch, onnx or onnxruntime: this script runs by hand and its outputs under
Tests/Fixtures/onnx/ (about 7 MB) are committed.

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install numpy pillow scipy opencv-python-headless torch==2.13.0 onnx onnxruntime onnxscript \
        matplotlib scikit-learn                         # pytorch-grad-cam imports them
    /tmp/torch-venv/bin/pip install --no-deps grad-cam==1.5.7 ttach tqdm
    nice /tmp/torch-venv/bin/python Scripts/make_onnx_fixtures.py [family ...]     # about 2 minutes on 2 cores

Per family (architectures in Scripts/onnx_families.py, torchvision's module names), in Tests/Fixtures/onnx/:
  <family>_input.npy                 (1, 3, H, W) float32, ImageNet-normalised uniform noise (the model's input space)
  <family>_legacy.onnx               torch.onnx.export(dynamo=False, opset_version=17); BN folded into the convs
                                     (constant folding, the default) except for vgg_bn (training=PRESERVE keeps it)
  <family>_dynamo.onnx(.data)        torch.onnx.export(dynamo=True) with its defaults: opset 20, the onnxscript
                                     optimiser (which folds BN into a preceding conv), weights in the .data file next
                                     to it. The stack-trace metadata (absolute paths) is removed, nothing else.
  <family>_<exporter>_logits.npy     onnxruntime's output (CPUExecutionProvider, 1 thread), (1, 10)
  <family>_logits.npy                torch's output
  <family>_<module>.npy              torch's output of a module (forward hook), three modules per family
  <family>_<exporter>_<module>.npy   onnxruntime's value of the ONNX tensor that the layer-name rule finds for it
  <family>_inputgrad.npy             d logit[k] / d input, torch autograd, (1, 3, H, W), k the top class
  <family>_gradcam.npy               pytorch-grad-cam 1.5.7 GradCAM at the family's CAM layer for class k, (H, W)
  manifest.json                      shapes, files, opsets, class k, CAM layers, ONNX tensor names, op counts, and
                                     the layer-name rule checked on every module of every export
torch's numbers are computed in float64 from the float32 weights the files hold, then stored as float32.
"""
import ast
import copy
import json
import logging
import os
import sys
import warnings
from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_zoo_fixtures as zoo  # noqa: E402
import onnx_families as fam  # noqa: E402
from make_fixtures import import_grad_cam  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "onnx")
EXPORTERS = ("legacy", "dynamo")
MEAN, STD = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
TOLERANCE = 1e-4          # the importer's bar: max |a - b| <= 1e-4 * max |b|
torch.set_num_threads(2)

# family: (builder, (H, W), seed, Grad-CAM layer, three intermediates). Each intermediate and CAM layer is a module
# path whose output the layer-name rule finds in both exports (see `layer_rule_check` for the modules where it fails).
FAMILIES = {
    "resnet50": (fam.resnet50, (64, 80), 1, "layer4", ["layer1.0", "layer2.0.downsample", "layer3"]),
    "vgg_bn": (fam.VGG, (64, 64), 2, "features.20", ["features.1", "features.7", "features.13"]),
    "densenet": (fam.DenseNet, (64, 72), 3, "features.norm5",
                 ["features.denseblock1.denselayer2", "features.denseblock1", "features.transition1"]),
    "inception": (fam.Inception3, (77, 93), 4, "Mixed_6b", ["maxpool1", "Mixed_5b", "Mixed_6b.branch7x7_3"]),
    "mobilenet_v3": (fam.MobileNetV3, (64, 96), 5, "features.6", ["features.1.block.1", "features.3", "features.5"]),
    "efficientnet_b0": (fam.EfficientNet, (80, 64), 6, "features.4", ["features.1.0.block.1", "features.2.1", "features.3"]),
    "regnet": (fam.RegNet, (72, 72), 7, "trunk_output", ["stem", "trunk_output.block1", "trunk_output.block2.block2-1.f.se"]),
    "shufflenet_v2": (fam.ShuffleNetV2, (64, 80), 8, "conv5", ["stage2.0", "stage2.1.branch2", "stage3"]),
    "convnext": (fam.ConvNeXt, (64, 96), 9, "features.3", ["features.0", "features.1.0.block.5", "features.1"]),
    "tf_same": (fam.TFSameNet, (64, 81), 10, "act2", ["blocks.1", "pool", "conv_same"]),
    "unet": (fam.UNet, (64, 80), 11, "dec1", ["enc2", "dec3", "dec2"]),
}

LEGACY_RULE = ("legacy exporter: a node's name is '/' + scopes + '/' + op, e.g. /layer4/layer4.1/conv2/Conv; each "
               "scope is the module's path shortened by torch to its last non-numeric atom and the numbers after it "
               "(layer4.1.conv2 -> conv2, features.3 -> features.3, block1-0 -> block1-0); the full path of a scope is "
               "its parent's path + '.' + the scope, except when the scope begins with the parent's own shortened name "
               "+ '.', where only the rest is added (features + features.3 -> features.3; features.3.block + block.0 -> "
               "features.3.block.0). The k-th further call of a module is the scope <name>_k (layer1.0.relu_1).")
DYNAMO_RULE = ("dynamo exporter: node metadata_props 'pkg.torch.onnx.name_scopes' is a Python list literal "
               "['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']: the entries between the first ('' = the model) "
               "and the last (the aten op) are the full module paths, outermost first ('namespace' holds the same "
               "paths with class names). All calls of a module share its path.")
COMMON_RULE = ("Both: skip Constant nodes, nodes whose output is not a float tensor (shape arithmetic, folded at "
               "import) and nodes without scope information (a legacy name without a leading '/', such as Identity_14; "
               "a dynamo node without name_scopes, which its optimiser makes, such as the Split of x.chunk). The nodes "
               "whose scope list contains P, in graph order, form runs of consecutive nodes; run 0 is P's first call, "
               "run k its call P_k (for legacy the _k is already in the name, for dynamo only the runs tell calls "
               "apart). P's output is the first output of the last node of its run.")
AMBIGUITIES = [
    "A conv followed by a BatchNorm that the exporter folds into it: the legacy exporter (constant folding on) "
    "names the fused Conv after the conv, so <conv> holds the BN's output and <bn> has no node; the dynamo exporter "
    "names it after the BN, so <bn> is right and <conv> has no node. The conv's own output exists in neither.",
    "Modules that are the identity in eval (StochasticDepth, Dropout, an empty Sequential) have no node: their "
    "output is their input, which the rule cannot name. So has a padding module whose Pad the dynamo optimiser "
    "folds into the next Conv's pads (tf_same's nn.ZeroPad2d 'pad').",
    "A module called several times (torchvision's Bottleneck calls self.relu three times): P is the first call, "
    "P_1 the second, as ConvLens names them; hooks and pytorch-grad-cam see every call. A real module named like "
    "<other>_<k> (Inception's branch7x7_1) is only ambiguous if <other> exists and is called k+1 times.",
    "Inplace ReLU: the legacy exporter names the ReLU after its module; a module whose output a later inplace "
    "op overwrites (torchvision's DenseNet norm5 before F.relu(inplace=True)) keeps its pre-ReLU value in ONNX, "
    "while a hook that does not clone sees the overwritten one.",
    "A block whose last op is an Add followed by a ReLU module: the ReLU is inside the block, so the block's path "
    "selects the ReLU; the Add is that ReLU's input (ConvLens calls it <block>.add).",
    "Functional ops at the model's own level (F.relu, F.interpolate, torch.cat in forward) belong to no module "
    "path: only the raw ONNX tensor name reaches them.",
]


# ---------------------------------------------------------------- models, inputs, exports

@torch.no_grad()
def randomise(model, seed):
    """The zoo's He-normal convs and linears and random BN statistics, then the parts it leaves alone: transposed
    convs, LayerNorm affine parameters and ConvNeXt's layer scale."""
    zoo.randomise(model, seed)
    g = torch.Generator().manual_seed(seed + 10_000)
    for m in model.modules():
        if isinstance(m, nn.ConvTranspose2d):
            m.weight.normal_(0, (2 / m.weight[0].numel()) ** 0.5, generator=g)
            m.bias.uniform_(-0.1, 0.1, generator=g)
        elif isinstance(m, nn.LayerNorm):
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.uniform_(-0.2, 0.2, generator=g)
        elif isinstance(m, fam.CNBlock):
            m.layer_scale.uniform_(0.3, 1.0, generator=g)
    return model.eval()


def make_input(shape, seed):
    """ImageNet-normalised uniform pixels: (1, 3, H, W) float32."""
    pixels = np.random.default_rng(seed).random((shape[0], shape[1], 3), dtype=np.float32)   # (H, W, 3) in [0, 1)
    return np.ascontiguousarray(((pixels - MEAN) / STD).transpose(2, 0, 1)[None])


def export(model, x, family, exporter, path):
    """Writes `path` (and, for dynamo, `path`.data) and returns the export options as text."""
    if exporter == "legacy":
        keep_bn = family == "vgg_bn"
        kw = {"training": torch.onnx.TrainingMode.PRESERVE} if keep_bn else {}
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17, **kw)
        return "dynamo=False, opset_version=17" + (", training=TrainingMode.PRESERVE (keeps BatchNormalization)" if keep_bn else "")
    torch.onnx.export(model, (x,), path, dynamo=True, verbose=False)
    m = onnx.load(path, load_external_data=False)
    for node in m.graph.node:       # absolute source paths of this machine: the only part that changes between runs
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(m, path)
    return "dynamo=True (defaults: optimize=True, external_data=True); pkg.torch.onnx.stack_trace removed"


# ---------------------------------------------------------------- the layer-name rule

def legacy_scopes(node):
    """'/layer1/layer1.0/relu_1/Relu' -> ['layer1', 'layer1.0', 'layer1.0.relu_1'] (see LEGACY_RULE)."""
    parts = node.name.split("/")
    if len(parts) < 3 or parts[0]:
        return []
    paths = []
    for scope in parts[1:-1]:
        if not paths:
            paths.append(scope)
            continue
        atoms = paths[-1].split(".")
        short = ".".join(atoms[max(i for i, a in enumerate(atoms) if not a.isdigit()):])
        paths.append(paths[-1] + scope[len(short):] if scope.startswith(short + ".") else paths[-1] + "." + scope)
    return paths


def dynamo_scopes(node):
    """metadata 'pkg.torch.onnx.name_scopes' without the model ('') and the op (see DYNAMO_RULE)."""
    scopes = next((p.value for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"), None)
    return ast.literal_eval(scopes)[1:-1] if scopes else []


def float_tensors(model):
    inferred = onnx.shape_inference.infer_shapes(model)
    infos = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
    return {v.name for v in infos if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}


def module_tensors(model, exporter):
    """{call name: (tensor name, node)} for every module path and call the rule finds (see COMMON_RULE)."""
    floats, scopes_of = float_tensors(model), legacy_scopes if exporter == "legacy" else dynamo_scopes
    named = (lambda n: n.name.startswith("/")) if exporter == "legacy" else \
        (lambda n: any(p.key == "pkg.torch.onnx.name_scopes" for p in n.metadata_props))
    nodes = [n for n in model.graph.node if n.op_type != "Constant" and n.output[0] in floats and named(n)]
    runs, last = {}, {}
    for i, node in enumerate(nodes):
        for path in scopes_of(node):
            if last.get(path) == i - 1:
                runs[path][-1] = node
            else:
                runs.setdefault(path, []).append(node)
            last[path] = i
    return {(p if k == 0 else f"{p}_{k}"): (n.output[0], n) for p, ns in runs.items() for k, n in enumerate(ns)}


def ort_session(model_or_path, threads=1):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = threads, 1, 3
    arg = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    return ort.InferenceSession(arg, opts, providers=["CPUExecutionProvider"])


def ort_values(path, names, x):
    """onnxruntime's values of the graph's output and of the tensors `names`, added as outputs to a copy."""
    model = onnx.load(path)                                     # with its external data, so the copy is whole
    have = {o.name for o in model.graph.output}
    for name in dict.fromkeys(names):
        if name not in have:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    s = ort_session(model)
    outs = s.run(None, {s.get_inputs()[0].name: x})
    return dict(zip([o.name for o in s.get_outputs()], outs))


def rel_err(got, want):
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12)) if got.shape == want.shape else float("inf")


# ---------------------------------------------------------------- torch's references

def torch_references(model, x, cam_layer):
    """Float64 copy of `model`: every module's output per call (and its input), logits, top class, the input
    gradient of the top logit, and pytorch-grad-cam's GradCAM at `cam_layer`."""
    ref = copy.deepcopy(model).double().eval()
    calls, inputs = {}, {}

    def pre(name):
        return lambda m, args: inputs.setdefault(name, []).append(args[0].detach().clone() if args and torch.is_tensor(args[0]) else None)

    def post(name):
        return lambda m, args, out: calls.setdefault(name, []).append(out.detach().clone() if torch.is_tensor(out) else None)
    hooks = [h for n, m in ref.named_modules() if n for h in (m.register_forward_pre_hook(pre(n)), m.register_forward_hook(post(n)))]
    x64 = torch.from_numpy(x).double().requires_grad_()
    logits = ref(x64)                                              # (1, K)
    for h in hooks:
        h.remove()
    k = int(logits[0].argmax())
    grad, = torch.autograd.grad(logits[0, k], x64)                 # (1, 3, H, W)
    gc = import_grad_cam()
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    with gc.GradCAM(model=ref, target_layers=[ref.get_submodule(cam_layer)]) as cam:
        heat = cam(input_tensor=torch.from_numpy(x).double(), targets=[ClassifierOutputTarget(k)])[0]   # (H, W)
    outs = {}
    for name, values in calls.items():
        for i, v in enumerate(values):
            if v is not None:
                outs[name if i == 0 else f"{name}_{i}"] = (v.float().numpy(), inputs[name][i])
    return logits.detach().float().numpy(), k, grad.float().numpy(), heat.astype(np.float32), outs


def layer_rule_check(found, values, outs):
    """Every module call torch saw, against the tensor the rule finds: how many are right, and the others by kind."""
    kinds = {"identity in eval: no node, its output is its input": [], "no node in its scope": [],
             "holds the output of another module (folded into it)": {}, "holds another value": {},
             "a run of nodes that is no call torch saw": sorted(set(found) - set(outs))}
    ok = 0
    for name, (want, given) in outs.items():
        if name not in found:
            same = given is not None and given.shape == want.shape and np.allclose(given.float().numpy(), want, atol=1e-6)
            kinds["identity in eval: no node, its output is its input" if same else "no node in its scope"].append(name)
            continue
        got = values[found[name][0]]
        if rel_err(got, want) <= TOLERANCE:
            ok += 1
            continue
        holds = [o for o, (w, _) in outs.items() if o != name and rel_err(got, w) <= TOLERANCE]
        if holds:
            kinds["holds the output of another module (folded into it)"][name] = holds[0]
        else:
            kinds["holds another value"][name] = (f"{found[name][0]}: {list(got.shape)} vs {list(want.shape)}, "
                                                  f"relative error {rel_err(got, want):.1e}")
    return {"checked": len(outs), "ok": ok, "exceptions": {k: v for k, v in kinds.items() if v}}


# ---------------------------------------------------------------- one family

def save(name, array):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(array, np.float32))


def file_size(path):
    return os.path.getsize(path) + (os.path.getsize(path + ".data") if os.path.exists(path + ".data") else 0)


def make(family):
    build, (h, w), seed, _, _ = FAMILIES[family]
    torch.manual_seed(seed)
    model = randomise(build(), seed)
    x = make_input((h, w), seed + 100)                                       # (1, 3, H, W)
    save(f"{family}_input", x)
    entry = {"input": {"file": f"{family}_input.npy", "shape": list(x.shape)}, "exporters": {}}
    exported = {}
    for exporter in EXPORTERS:
        path = os.path.join(OUT, f"{family}_{exporter}.onnx")
        for stale in (path, path + ".data"):
            if os.path.exists(stale):
                os.remove(stale)
        options = export(model, torch.from_numpy(x), family, exporter, path)
        exported[exporter] = (path, options)
    return model, x, entry, exported


def references(family, model, x, entry, exported):
    _, _, _, cam_layer, taps = FAMILIES[family]
    logits, k, grad, heat, outs = torch_references(model, x, cam_layer)
    second = float(np.sort(logits[0])[-2])
    save(f"{family}_logits", logits)
    save(f"{family}_inputgrad", grad)
    save(f"{family}_gradcam", heat)
    entry.update({"classes": int(logits.shape[1]), "class": k, "top_logit_margin": round(float(logits[0, k]) - second, 5),
                  "torch_logits": f"{family}_logits.npy", "inputgrad": f"{family}_inputgrad.npy",
                  "gradcam": {"layer": cam_layer, "file": f"{family}_gradcam.npy", "shape": list(heat.shape),
                              "method": f"pytorch-grad-cam 1.5.7 GradCAM(target_layers=[{cam_layer}]), "
                                        f"ClassifierOutputTarget({k})", "onnx_tensor": {}},
                  "intermediates": [{"module": t, "file": f"{family}_{t}.npy", "shape": list(outs[t][0].shape), "onnx": {}} for t in taps]})
    for t in taps:
        save(f"{family}_{t}", outs[t][0])
    lines = []
    for exporter, (path, options) in exported.items():
        model_proto = onnx.load(path, load_external_data=False)
        found = module_tensors(model_proto, exporter)
        values = ort_values(path, [v[0] for v in found.values()], x)
        plain = ort_session(path)
        out = plain.run(None, {plain.get_inputs()[0].name: x})[0]             # (1, K)
        save(f"{family}_{exporter}_logits", out)
        err = rel_err(out, logits)
        assert err <= TOLERANCE and int(out.argmax()) == k, f"{family} {exporter}: logits differ from torch's ({err:.1e})"
        ops = Counter(n.op_type for n in model_proto.graph.node)
        if "PRESERVE" in options:
            bns = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
            assert ops["BatchNormalization"] == bns, f"{family} {exporter}: {ops['BatchNormalization']} of {bns} BNs kept"
        data = path + ".data"
        entry["exporters"][exporter] = {
            "file": os.path.basename(path), "external_data": os.path.basename(data) if os.path.exists(data) else None,
            "bytes": file_size(path), "opset": next(o.version for o in model_proto.opset_import if o.domain in ("", "ai.onnx")),
            "options": options, "input_name": model_proto.graph.input[0].name, "output_name": model_proto.graph.output[0].name,
            "logits": f"{family}_{exporter}_logits.npy", "logits_rel_err_vs_torch": float(f"{err:.2e}"),
            "ops": dict(sorted(ops.items())),
            "layer_rule_check": layer_rule_check(found, values, outs)}
        for item in entry["intermediates"] + [entry["gradcam"]]:
            name = item.get("module", cam_layer)
            assert name in found, f"{family} {exporter}: the rule finds no tensor for {name}"
            tensor, node = found[name]
            e = rel_err(values[tensor], outs[name][0])
            assert e <= TOLERANCE, f"{family} {exporter}: {name} -> {tensor} differs from torch ({e:.1e})"
            where = {"tensor": tensor, "node": node.name, "op": node.op_type,
                     "scopes": legacy_scopes(node) if exporter == "legacy" else dynamo_scopes(node)}
            if "module" in item:
                save(f"{family}_{exporter}_{name}", values[tensor])
                item["onnx"][exporter] = {**where, "file": f"{family}_{exporter}_{name}.npy", "rel_err_vs_torch": float(f"{e:.2e}")}
                lines.append(f"    {exporter:6s} {name:34s} -> {tensor:44s} rel err {e:.1e}")
            else:
                item["onnx_tensor"][exporter] = where
        check = entry["exporters"][exporter]["layer_rule_check"]
        lines.append(f"    {exporter:6s} opset {entry['exporters'][exporter]['opset']}, logits rel err {err:.1e}, "
                     f"{sum(ops.values())} nodes, rule right for {check['ok']}/{check['checked']} module calls")
    print(f"  {family}: input {list(x.shape)}, class {k} (margin {entry['top_logit_margin']:.3f}), CAM at {cam_layer}")
    print("\n".join(lines))
    return entry


def main():
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    names = sys.argv[1:] or list(FAMILIES)
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) and sys.argv[1:] else {}
    print(f"torch {torch.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}; exporting to {OUT}")
    built = {f: make(f) for f in names}                      # every export before grad-cam's stand-in torchvision
    families = manifest.get("families", {})
    for f in names:
        families[f] = references(f, *built[f])
    families = {f: families[f] for f in FAMILIES if f in families}
    union = {e: dict(sorted(sum((Counter(v["exporters"][e]["ops"]) for v in families.values()), Counter()).items())) for e in EXPORTERS}
    manifest = {
        "made_by": "Scripts/make_onnx_fixtures.py", "torch": torch.__version__, "onnx": onnx.__version__,
        "onnxruntime": ort.__version__, "grad_cam": "1.5.7", "tolerance": f"max|a - b| <= {TOLERANCE} * max|b|",
        "layer_name_rule": {"legacy": LEGACY_RULE, "dynamo": DYNAMO_RULE, "both": COMMON_RULE, "ambiguous": AMBIGUITIES},
        "op_union": union, "families": families}
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    for e in EXPORTERS:
        print(f"op types, {e} ({len(union[e])}): " + ", ".join(f"{op} {n}" for op, n in union[e].items()))
    sizes = {f: os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT)}
    biggest = max((s, f) for f, s in sizes.items() if ".onnx" in f)
    total = sum(sizes.values())
    print(f"{len(sizes)} files, {total / 1e6:.2f} MB in all; largest model file {biggest[1]} {biggest[0] / 1e6:.3f} MB")
    assert all(file_size(os.path.join(OUT, f)) <= 2_000_000 for f in sizes if f.endswith(".onnx")), "a model is over 2 MB"
    assert total <= 20_000_000, "the ONNX fixtures are over 20 MB"


if __name__ == "__main__":
    main()
