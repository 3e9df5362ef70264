#!/usr/bin/env python3
"""Writes the ONNX files the ONNX reader's tests and fuzz target start from, with the `onnx` package only.

    python3 -m venv /tmp/onnxvenv && /tmp/onnxvenv/bin/pip install onnx numpy
    /tmp/onnxvenv/bin/python Scripts/make_onnx_reader_fixtures.py            # the committed fixtures and seeds
    /tmp/onnxvenv/bin/python Scripts/make_onnx_reader_fixtures.py --big DIR  # + ResNet-18/50-shaped files for timing

Tests/TensorIOTests/Fixtures/onnx/ gets
  reader.onnx    every initializer encoding (raw_data and float_data, int32_data, int64_data, double_data,
                 uint64_data; FLOAT16, BFLOAT16, DOUBLE, integer types, BOOL, a scalar, an empty tensor), a Constant
                 node's tensor, every attribute kind, node metadata_props, dim_param and unknown dimensions;
  external.onnx  initializers and a Constant tensor in external.bin (the last without a length);
  *.json         what onnx's own Python reader sees in each file (numpy_helper.to_array for the values), which
                 ONNXReaderTests compares with ConvLens's reader field by field.
Fuzz/Corpus/onnx/ gets reader.onnx, a two-node model, and truncations of both.
--big DIR writes resnet18.onnx (~47 MB) and resnet50.onnx (~102 MB): the legacy torch exporter's layout (BN folded
into Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm) with seeded random weights, not committed.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "TensorIOTests", "Fixtures", "onnx")
SEEDS = os.path.join(ROOT, "Fuzz", "Corpus", "onnx")


def tensor(name, dtype, dims, field=None, values=None, raw=None):
    """A TensorProto built field by field, so each test names the encoding it covers."""
    t = TP(name=name, data_type=dtype, dims=dims)
    if raw is not None:
        t.raw_data = raw
    if field is not None:
        getattr(t, field).extend(values)
    return t


def reader_model():
    f16 = np.array([0.5, -1.25, 65504, 2 ** -24], np.float16)  # includes the largest half and the smallest subnormal
    bf16_bits = (np.array([1.0, -2.5, 3.0e38, 1.0e-38], np.float32).view(np.uint32) >> 16).astype(np.uint16)
    f64 = np.array([0.1, -1e300 * 0, 3.141592653589793], np.float64)
    inits = [
        tensor("w_raw", TP.FLOAT, [2, 3, 1, 1], raw=(np.arange(6, dtype=np.float32) / 4 - 0.5).tobytes()),
        tensor("w_typed", TP.FLOAT, [3], "float_data", [1.5, -0.0, 1e-3]),
        tensor("h_raw", TP.FLOAT16, [2, 2], raw=f16.tobytes()),
        tensor("h_typed", TP.FLOAT16, [4], "int32_data", f16.view(np.uint16).tolist()),
        tensor("b_raw", TP.BFLOAT16, [4], raw=bf16_bits.tobytes()),
        tensor("b_typed", TP.BFLOAT16, [4], "int32_data", bf16_bits.tolist()),
        tensor("d_raw", TP.DOUBLE, [3], raw=f64.tobytes()),
        tensor("d_typed", TP.DOUBLE, [3], "double_data", f64.tolist()),
        tensor("shape_i64", TP.INT64, [4], "int64_data", [1, -1, 2 ** 40, -(2 ** 63)]),
        tensor("shape_raw", TP.INT64, [2], raw=np.array([7, -3], np.int64).tobytes()),
        tensor("i32", TP.INT32, [3], "int32_data", [-(2 ** 31), 0, 2 ** 31 - 1]),
        tensor("i8", TP.INT8, [3], "int32_data", [-128, -1, 127]),
        tensor("i8_raw", TP.INT8, [3], raw=np.array([-128, -1, 127], np.int8).tobytes()),
        tensor("u8_raw", TP.UINT8, [2], raw=bytes([0, 255])),
        tensor("i16_raw", TP.INT16, [2], raw=np.array([-32768, 32767], np.int16).tobytes()),
        tensor("bool", TP.BOOL, [3], "int32_data", [1, 0, 1]),
        tensor("u64", TP.UINT64, [2], "uint64_data", [0, 2 ** 63 - 1]),
        tensor("u32_raw", TP.UINT32, [1], raw=np.array([4000000000], np.uint32).tobytes()),
        tensor("scalar", TP.FLOAT, [], "float_data", [42.0]),
        tensor("empty", TP.FLOAT, [0, 3]),
        tensor("text", TP.STRING, [1], "string_data", [b"kept by name only"]),
    ]
    const = h.make_node("Constant", [], ["c"], name="const_half",
                        value=tensor("", TP.FLOAT16, [2], raw=np.array([1.5, -3], np.float16).tobytes()))
    conv = h.make_node("Conv", ["x", "w_raw", ""], ["y"], name="/layer1/layer1.0/conv1/Conv",
                       pads=[0, 1, 2, 3], strides=[2, 2], group=1, auto_pad="NOTSET", dilations=[1, 1])
    conv.metadata_props.add(key="pkg.torch.onnx.name_scopes", value="['', 'layer1', 'layer1.0', 'layer1.0.conv1']")
    conv.metadata_props.add(key="pkg.torch.onnx.class_hierarchy",
                            value="['Net', 'torch.nn.Sequential', 'BasicBlock', 'torch.nn.Conv2d']")
    leaky = h.make_node("LeakyRelu", ["y"], ["y2"], name="leaky", alpha=0.125)
    resize = h.make_node("Resize", ["y2", "", "scales"], ["y3"], name="", mode="linear",
                         coordinate_transformation_mode="half_pixel")
    custom = h.make_node("MyOp", ["y3"], ["y4", ""], name="custom", domain="com.example",
                         weights=[0.25, -1.0], labels=["a", "b\tc"], big=-(2 ** 62))
    branch = h.make_graph([h.make_node("Identity", ["y4"], ["t"])], "then", [], [h.make_tensor_value_info("t", TP.FLOAT, None)])
    cond = h.make_node("If", ["flag"], ["z"], name="if", then_branch=branch, else_branch=branch)
    explicit = h.make_node("Relu", ["z"], ["out"], name="relu", domain="ai.onnx")
    graph = h.make_graph(
        [const, conv, leaky, resize, custom, cond, explicit], "reader",
        [h.make_tensor_value_info("x", TP.FLOAT, ["batch", 3, None, 8]),
         h.make_tensor_value_info("flag", TP.BOOL, [])],
        [h.make_tensor_value_info("out", TP.FLOAT, None)],
        inits,
        value_info=[h.make_tensor_value_info("y", TP.FLOAT16, [1, "c", 4, 4]),
                    h.make_tensor_sequence_value_info("seq", TP.FLOAT, None)])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("com.example", 1)],
                         producer_name="convlens-fixtures", producer_version="0.1", ir_version=8)
    model.metadata_props.add(key="author", value="make_onnx_reader_fixtures.py")
    return model


def external_model():
    w = tensor("ext_w", TP.FLOAT, [2, 3], raw=(np.arange(6, dtype=np.float32) * 1.5 - 2).tobytes())
    hlf = tensor("ext_h", TP.FLOAT16, [4], raw=np.array([0.5, 1, -2, 1024], np.float16).tobytes())
    ints = tensor("ext_i", TP.INT64, [3], raw=np.array([-1, 0, 2 ** 33], np.int64).tobytes())
    inline = tensor("inline", TP.FLOAT, [2], "float_data", [3.0, 4.0])
    const = h.make_node("Constant", [], ["c"], name="const",
                        value=tensor("", TP.DOUBLE, [2], raw=np.array([0.25, -8], np.float64).tobytes()))
    graph = h.make_graph([const, h.make_node("Add", ["x", "inline"], ["y"], name="add")], "external",
                         [h.make_tensor_value_info("x", TP.FLOAT, [2])], [h.make_tensor_value_info("y", TP.FLOAT, [2])],
                         [w, hlf, ints, inline])
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 18)], producer_name="convlens-fixtures", ir_version=9)
    onnx.external_data_helper.convert_model_to_external_data(
        model, all_tensors_to_one_file=True, location="external.bin", size_threshold=0, convert_attribute=True)
    return model


def expected(model, base):
    """What onnx's own reader sees: the JSON ONNXReaderTests compares with."""
    def values(t):
        if t.data_type in (TP.STRING, TP.UNDEFINED):
            return {}
        a = numpy_helper.to_array(t, base_dir=base)
        if a.dtype.kind == "f" or t.data_type == TP.BFLOAT16:
            return {"floats": [float(v) for v in a.astype(np.float32).ravel()]}
        return {"ints": [int(v) for v in a.astype(np.int64).ravel()]}

    def tens(t):
        return {"name": t.name, "shape": list(t.dims), "type": TP.DataType.Name(t.data_type), **values(t)}

    def attr(a):
        kind = onnx.AttributeProto.AttributeType.Name(a.type)
        v = h.get_attribute_value(a)
        if kind == "TENSOR":
            return {"type": kind, "value": tens(v)}
        if kind in ("INT", "FLOAT", "INTS", "FLOATS"):
            return {"type": kind, "value": [float(x) for x in v] if kind == "FLOATS" else float(v) if kind == "FLOAT" else v}
        if kind in ("STRING", "STRINGS"):
            return {"type": kind, "value": v.decode() if kind == "STRING" else [s.decode() for s in v]}
        return {"type": kind}

    def info(v):
        which = v.type.WhichOneof("value")
        if which != "tensor_type":
            return {"name": v.name, "type": {"sequence_type": "SEQUENCE"}.get(which, which), "shape": None}
        tt = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param if d.HasField("dim_param") else None
                for d in tt.shape.dim] if tt.HasField("shape") else None
        return {"name": v.name, "type": TP.DataType.Name(tt.elem_type), "shape": dims}

    g = model.graph
    return {
        "ir_version": model.ir_version,
        "opsets": {("" if o.domain == "ai.onnx" else o.domain): o.version for o in model.opset_import},
        "producer": model.producer_name, "producer_version": model.producer_version,
        "metadata": {p.key: p.value for p in model.metadata_props},
        "graph": g.name,
        "initializers": [tens(t) for t in g.initializer],
        "nodes": [{"name": n.name, "op_type": n.op_type, "domain": "" if n.domain == "ai.onnx" else n.domain,
                   "inputs": list(n.input), "outputs": list(n.output),
                   "attributes": {a.name: attr(a) for a in n.attribute},
                   "metadata": {p.key: p.value for p in n.metadata_props}} for n in g.node],
        "inputs": [info(v) for v in g.input], "outputs": [info(v) for v in g.output],
        "value_info": [info(v) for v in g.value_info],
    }


def tiny_model():
    """The smallest useful seed: Conv then Relu, weights in float_data."""
    g = h.make_graph([h.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1]), h.make_node("Relu", ["y"], ["z"])],
                     "tiny", [h.make_tensor_value_info("x", TP.FLOAT, [1, 1, 2, 2])],
                     [h.make_tensor_value_info("z", TP.FLOAT, [1, 1, 2, 2])],
                     [h.make_tensor("w", TP.FLOAT, [1, 1, 1, 1], [2.0])])
    return h.make_model(g, opset_imports=[h.make_opsetid("", 13)])


def resnet(blocks, bottleneck, seed=0):
    """A torchvision ResNet as torch's legacy exporter writes it (BN folded into Conv), with random weights."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], []

    def conv(x, name, cin, cout, k, stride, relu=True):
        w = (rng.standard_normal((cout, cin, k, k), np.float32) * np.sqrt(2 / (cin * k * k))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"{name}.weight"))
        inits.append(numpy_helper.from_array(np.zeros(cout, np.float32), f"{name}.bias"))
        path = "/" + name.replace(".", "/")
        nodes.append(h.make_node("Conv", [x, f"{name}.weight", f"{name}.bias"], [f"{path}/Conv_output_0"], name=f"{path}/Conv",
                                 kernel_shape=[k, k], strides=[stride, stride], pads=[k // 2] * 4))
        y = f"{path}/Conv_output_0"
        if relu:
            nodes.append(h.make_node("Relu", [y], [f"{path}/Relu_output_0"], name=f"{path}/Relu"))
            y = f"{path}/Relu_output_0"
        return y

    x = conv("input", "conv1", 3, 64, 7, 2)
    nodes.append(h.make_node("MaxPool", [x], ["/maxpool/MaxPool_output_0"], name="/maxpool/MaxPool",
                             kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = "/maxpool/MaxPool_output_0", 64
    for stage, (n, width) in enumerate(zip(blocks, [64, 128, 256, 512])):
        for b in range(n):
            p = f"layer{stage + 1}.{b}"
            stride = 2 if b == 0 and stage > 0 else 1
            cout = width * 4 if bottleneck else width
            if bottleneck:
                y = conv(conv(conv(x, f"{p}.conv1", cin, width, 1, 1), f"{p}.conv2", width, width, 3, stride),
                         f"{p}.conv3", width, cout, 1, 1, relu=False)
            else:
                y = conv(conv(x, f"{p}.conv1", cin, width, 3, stride), f"{p}.conv2", width, width, 3, 1, relu=False)
            short = conv(x, f"{p}.downsample.0", cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout else x
            nodes.append(h.make_node("Add", [y, short], [f"/{p}/Add_output_0"], name=f"/{p}/Add"))
            nodes.append(h.make_node("Relu", [f"/{p}/Add_output_0"], [f"/{p}/relu/Relu_output_0"], name=f"/{p}/relu/Relu"))
            x, cin = f"/{p}/relu/Relu_output_0", cout
    nodes.append(h.make_node("GlobalAveragePool", [x], ["pooled"], name="/avgpool/GlobalAveragePool"))
    nodes.append(h.make_node("Flatten", ["pooled"], ["flat"], name="/Flatten", axis=1))
    inits.append(numpy_helper.from_array(rng.standard_normal((1000, cin), np.float32) / np.sqrt(cin), "fc.weight"))
    inits.append(numpy_helper.from_array(np.zeros(1000, np.float32), "fc.bias"))
    nodes.append(h.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["output"], name="/fc/Gemm", transB=1))
    g = h.make_graph(nodes, "main_graph", [h.make_tensor_value_info("input", TP.FLOAT, ["batch_size", 3, 224, 224])],
                     [h.make_tensor_value_info("output", TP.FLOAT, ["batch_size", 1000])], inits)
    return h.make_model(g, opset_imports=[h.make_opsetid("", 17)], producer_name="pytorch", producer_version="2.13.0")


def main():
    if "--big" in sys.argv:
        out = sys.argv[sys.argv.index("--big") + 1]
        os.makedirs(out, exist_ok=True)
        for name, blocks, bottleneck in [("resnet18", [2, 2, 2, 2], False), ("resnet50", [3, 4, 6, 3], True)]:
            onnx.save(resnet(blocks, bottleneck), os.path.join(out, name + ".onnx"))
            print(name, os.path.getsize(os.path.join(out, name + ".onnx")), "bytes")
        return
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(SEEDS, exist_ok=True)
    reader = reader_model()
    onnx.save(reader, os.path.join(OUT, "reader.onnx"))
    ext = external_model()
    for f in ("external.onnx", "external.bin"):
        if os.path.exists(os.path.join(OUT, f)):
            os.remove(os.path.join(OUT, f))
    onnx.save_model(ext, os.path.join(OUT, "external.onnx"))  # writes external.bin: the tensors name it
    ext = onnx.load(os.path.join(OUT, "external.onnx"), load_external_data=False)
    last = ext.graph.node[0].attribute[0].t  # the Constant's tensor, last in external.bin: an offset but no length
    assert int(next(e.value for e in last.external_data if e.key == "offset")) + 16 == os.path.getsize(os.path.join(OUT, "external.bin"))
    for i, e in enumerate(last.external_data):
        if e.key == "length":
            del last.external_data[i]
            break
    with open(os.path.join(OUT, "external.onnx"), "wb") as f:
        f.write(ext.SerializeToString())
    for name, model in [("reader", reader), ("external", ext)]:
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            json.dump(expected(model, OUT), f, indent=1)
            f.write("\n")
    tiny = tiny_model().SerializeToString()
    full = reader.SerializeToString()
    seeds = {"reader.onnx": full, "tiny.onnx": tiny, "tiny_half.onnx": tiny[: len(tiny) // 2],
             "reader_cut_1000.onnx": full[:1000], "reader_cut_300.onnx": full[:300], "reader_minus_1.onnx": full[:-1]}
    for name, data in seeds.items():
        with open(os.path.join(SEEDS, name), "wb") as f:
            f.write(data)
    print("wrote", OUT, "and", SEEDS)


if __name__ == "__main__":
    main()
