"""Small ONNX files that ConvLens must refuse with one line naming the problem (Tests/CLITests/HostileONNXTests.swift).

    python3 -m venv /tmp/onnxvenv && /tmp/onnxvenv/bin/pip install onnx numpy
    /tmp/onnxvenv/bin/python Scripts/make_onnx_hostile_fixtures.py

Each graph is valid protobuf; what is wrong is the graph: an op ConvLens does not have (Det), a cycle, an input no
node defines, a shape that overflows, a model that is not an image classifier's input. onnx.checker would refuse
some of them, so they are saved without it.
"""
import os
import onnx
from onnx import TensorProto as TP, helper as h

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "onnx", "hostile")
os.makedirs(OUT, exist_ok=True)
x = h.make_tensor_value_info("x", TP.FLOAT, [1, 3, 8, 8])
w = h.make_tensor("w", TP.FLOAT, [1, 3, 1, 1], [1.0, 1.0, 1.0])


def save(name, nodes, inputs=(x,), inits=(w,), outputs=("z",), opset=17):
    g = h.make_graph(list(nodes), name, list(inputs), [h.make_tensor_value_info(o, TP.FLOAT, None) for o in outputs], list(inits))
    onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", opset)]), os.path.join(OUT, name + ".onnx"))


save("unsupported_op", [h.make_node("Conv", ["x", "w"], ["y"], name="conv"), h.make_node("Det", ["y"], ["z"], name="weird")])
save("cycle", [h.make_node("Add", ["x", "z"], ["y"], name="first"), h.make_node("Relu", ["y"], ["z"], name="second")])
save("undefined_input", [h.make_node("Conv", ["x", "w"], ["y"], name="conv"), h.make_node("Add", ["y", "nowhere"], ["z"], name="sum")])
huge = h.make_tensor("shape", TP.INT64, [4], [1, 3, 1 << 31, 1 << 31])
save("overflowing_shape", [h.make_node("ConstantOfShape", ["shape"], ["big"], name="fill"),
                           h.make_node("Add", ["x", "big"], ["z"], name="sum")], inits=(huge,))
save("old_opset", [h.make_node("Relu", ["x"], ["z"], name="relu")], inits=(), opset=9)
save("two_inputs", [h.make_node("Add", ["x", "x2"], ["z"], name="sum")],
     inputs=(x, h.make_tensor_value_info("x2", TP.FLOAT, [1, 3, 8, 8])), inits=())
save("grey_input", [h.make_node("Relu", ["g"], ["z"], name="relu")], inputs=(h.make_tensor_value_info("g", TP.FLOAT, [1, 1, 8, 8]),), inits=())
print("wrote", sorted(os.listdir(OUT)))
