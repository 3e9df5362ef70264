"""Keras fixtures for ConvLens's HDF5 reader and Keras importer (Tests/Fixtures/keras/).

Run with Keras 3 on the torch backend (never imported by ConvLens or its tests):

    python3 -m venv /tmp/keras-venv
    /tmp/keras-venv/bin/pip install keras h5py torch==2.13.0 numpy pillow
    KERAS_BACKEND=torch /tmp/keras-venv/bin/python Scripts/make_keras_fixtures.py

It writes:
  hdf5/*.h5 + hdf5/manifest.json   small files in each HDF5 form the reader handles (h5py's default and
                                   libver='latest', chunked, gzip, shuffle, every element type), with h5py's reading
  <model>.keras, <model>.h5        each model saved by Keras 3 in both formats
  <model>_weights.h5               its weights alone in the legacy layout of keras.applications' files
  <model>_*.npy + manifest.json    the input (N, H, W, C), Keras's predict, three named layers, a Grad-CAM
  hostile/*                        the bad files of issue 15 (truncated, absurd dimensions, an external link, an
                                   unknown class, a Lambda layer, a weight of the wrong shape), and a Reshape to 2^80

With `--full DIR` it writes instead, next to keras.applications' weights files in DIR (not committed; they need a
download), the input and Keras's predict for each, for the opt-in full-size test (Tests/ModelsTests/KerasFullSizeTests.swift).

The models are keras.applications' own builders (VGG16, ResNet50, MobileNetV2, EfficientNetB0, DenseNet121) with
their layer widths divided (the `layers` module they call is wrapped so that Conv2D and Dense get fewer filters);
layer types, names and topology are the applications'. Weights are random and seeded, BN statistics too.
"""
import json, math, os, sys, types
os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np, h5py, torch, keras
from keras import layers as L
from keras.src.applications import vgg16, resnet, mobilenet_v2, efficientnet, densenet
from keras.src.legacy.saving import legacy_h5_format

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "keras")
FUZZ = os.path.join(ROOT, "Fuzz", "Corpus", "keras")


def narrowed(module, divide):
    """Runs `module`'s builders with Conv2D and Dense narrowed: `divide(name, n)` gives the new width."""
    real = module.layers
    proxy = types.SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    def conv(filters, *a, **k): return real.Conv2D(divide(k.get("name", ""), filters), *a, **k)
    def dense(units, *a, **k): return real.Dense(divide(k.get("name", ""), units), *a, **k)
    proxy.Conv2D, proxy.Dense = conv, dense
    module.layers = proxy
    return real


def by(d, keep=()):
    return lambda name, n: n if name in keep or any(name.endswith(s) for s in keep) else max(1, n // d)


REAL = {"vgg16": lambda: vgg16.VGG16(weights=None), "resnet50": lambda: resnet.ResNet50(weights=None),
        "mobilenetv2": lambda: mobilenet_v2.MobileNetV2(weights=None),
        "efficientnetb0": lambda: efficientnet.EfficientNetB0(weights=None),
        "densenet121": lambda: densenet.DenseNet121(weights=None)}


def same_structure(name, model):
    """Checks the narrowed model against the full-size application: the same layers (names and classes) fed by the
    same layers."""
    if name not in REAL: return
    keras.backend.clear_session()
    real = REAL[name]()
    def sources(node):                                      # the layers a node's tensors come from
        if isinstance(node, dict):
            if "keras_history" in node: return [node["keras_history"][0]]
            return [h for v in node.values() for h in sources(v)]
        return [h for v in node for h in sources(v)] if isinstance(node, list) else []
    def topology(m):
        return sorted((l["name"], l["class_name"], str(sources(l["inbound_nodes"]))) for l in m.get_config()["layers"])
    assert topology(real) == topology(model), f"{name}: the narrowed model's topology differs from keras.applications'"


def randomise(model, seed, gain=3.0):
    """Random weights everywhere: biases and BN parameters too, so that no zero hides a misplaced tensor. Kernels
    have variance gain / (3 fan_in): 2 / fan_in (He's, gain 6) keeps a plain ReLU stack such as VGG alive."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            randomise(layer, seed + 1, gain)
            continue
        for v in layer.weights:
            shape, n = tuple(v.shape), v.path.split("/")[-1]
            if n in ("gamma",):
                val = rng.uniform(0.6, 1.4, shape)
            elif n in ("moving_variance", "variance"):
                val = rng.uniform(0.5, 1.5, shape)
            elif n in ("beta", "moving_mean", "mean", "bias"):
                val = rng.uniform(-0.2, 0.2, shape)
            elif n == "count":
                continue
            elif len(shape) >= 2:
                fan_in = int(np.prod(shape[:-1])) if "depthwise" not in n else int(np.prod(shape[:2]))
                val = rng.uniform(-1, 1, shape) * math.sqrt(gain / max(fan_in, 1))
            else:
                val = rng.uniform(-0.2, 0.2, shape)
            v.assign(val.astype(np.float32))


def build(name):
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    if name == "vgg16":
        real = narrowed(vgg16, by(16, keep=("predictions",)))
        try: return vgg16.VGG16(weights=None, input_shape=(64, 64, 3), classes=10), 64
        finally: vgg16.layers = real
    if name == "resnet50":
        real = narrowed(resnet, by(16, keep=("predictions",)))
        try: return resnet.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10), 64
        finally: resnet.layers = real
    if name == "mobilenetv2":
        # alpha 0.35 (one of the published widths, so the residual Adds fall where alpha 1 puts them) narrows the
        # blocks; the expansions are divided by 4 and the 1280-filter top conv, fixed for alpha <= 1, by 16.
        real = narrowed(mobilenet_v2, lambda name, n: n // 16 if name == "Conv_1" else n // 4 if name.endswith("_expand") else n)
        try: return mobilenet_v2.MobileNetV2(weights=None, alpha=0.35, input_shape=(64, 64, 3), classes=10), 64
        finally: mobilenet_v2.layers = real
    if name == "efficientnetb0":
        # Width 0.2 rounded to multiples of 4 keeps every stage's filters distinct, so residual Adds fall where B0's
        # do; the 1280-filter top conv is divided by 4.
        real = narrowed(efficientnet, lambda name, n: n // 4 if name == "top_conv" else n)
        try:
            return efficientnet.EfficientNet(0.2, 1.0, 64, 0.2, depth_divisor=4, name="efficientnetb0", weights=None,
                                             input_shape=(64, 64, 3), classes=10), 64
        finally: efficientnet.layers = real
    if name == "densenet121":
        real = narrowed(densenet, by(16, keep=("predictions", "pool2_conv", "pool3_conv", "pool4_conv")))
        try: return densenet.DenseNet([6, 12, 24, 16], weights=None, input_shape=(64, 64, 3), classes=10, name="densenet121"), 64
        finally: densenet.layers = real
    if name == "vgg19bn":
        # The CIFAR-10 tutorial's VGG19 with BatchNorm as a Sequential model, widths divided by 16, names left to Keras.
        m = keras.Sequential([keras.Input((32, 32, 3))])
        for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]:
            if v == "M":
                m.add(L.MaxPooling2D(2))
            else:
                m.add(L.Conv2D(v // 16, 3, padding="same")); m.add(L.BatchNormalization()); m.add(L.Activation("relu"))
        m.add(L.Flatten()); m.add(L.Dropout(0.5)); m.add(L.Dense(64)); m.add(L.ReLU()); m.add(L.Dense(10, activation="softmax"))
        return m, 32
    if name == "nested":
        # A nested Sequential, a nested Functional, a layer called twice (two inbound nodes), duplicated class names.
        inp = keras.Input((16, 16, 3))
        stem = keras.Sequential([keras.Input((16, 16, 3)), L.Conv2D(8, 3, padding="same"), L.BatchNormalization(), L.ReLU()], name="stem")
        a = keras.Input((8, 8, 8))
        inner = keras.Model(a, L.Add(name="inner_add")([L.Conv2D(8, 1, name="inner_conv")(a), a]), name="inner")
        x = stem(inp)
        x = L.MaxPooling2D(2, name="pool")(x)
        shared = L.Conv2D(8, 3, padding="same", activation="relu", name="shared")
        y1, y2 = shared(x), shared(inner(x))
        x = L.Concatenate(name="cat")([y1, y2])
        x = L.Conv2D(8, 3, strides=2, padding="same", dilation_rate=1, name="conv_s2")(x)
        x = L.Conv2DTranspose(4, 3, strides=2, padding="same", name="up")(x)
        x = L.Cropping2D(((1, 0), (0, 1)), name="crop")(x)
        x = L.AveragePooling2D(3, strides=2, padding="same", name="avg")(x)
        x = L.LeakyReLU(0.2, name="leaky")(x)
        x = L.Conv2D(4, 3, groups=2, dilation_rate=2, padding="same", name="grouped")(x)
        x = L.GlobalMaxPooling2D(keepdims=True, name="gmax")(x)
        x = L.Flatten(name="flat")(x)
        x = L.Dense(6, activation="tanh", name="dense_tanh")(x)
        x = L.Reshape((2, 3), name="reshape")(x)
        x = L.Activation("softmax", name="probs")(x)
        return keras.Model(inp, L.Flatten(name="out")(x)), 16
    if name == "book":
        # The acceptance check's model (shared/checks/keras.sh), with the Keras book's names.
        x = inp = keras.Input((64, 64, 3))
        x = L.Conv2D(8, 3, padding="same", activation="relu", name="block1_conv1")(x)
        x = L.Conv2D(8, 3, padding="same", activation="relu", name="block1_conv2")(x)
        x = L.MaxPooling2D(2, name="block1_pool")(x)
        a = L.Conv2D(16, 3, strides=2, padding="same", name="block2_conv1")(x)
        a = L.BatchNormalization(name="block2_bn")(a); a = L.Activation("swish", name="block2_act")(a)
        b = L.DepthwiseConv2D(3, strides=2, padding="same", name="block2_dw")(x); b = L.ReLU(6.0, name="block2_relu6")(b)
        b = L.SeparableConv2D(16, 3, padding="same", name="block2_sep")(b)
        x = L.Add(name="block2_add")([a, b]); x = L.Concatenate(name="block2_cat")([x, a])
        x = L.Conv2D(16, 1, activation="relu", name="block2_conv2")(x)
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        return keras.Model(inp, L.Dense(10, name="predictions")(x)), 64
    raise SystemExit(f"unknown model {name}")


# What each model's test reads: three named layers and the Grad-CAM layer.
MODELS = {
    "vgg16": (["block1_conv1", "block3_pool", "fc1"], "block5_conv3"),
    "resnet50": (["conv1_relu", "conv2_block3_out", "conv4_block6_out"], "conv5_block3_out"),
    "mobilenetv2": (["expanded_conv_project_BN", "block_6_expand_relu", "block_16_project_BN"], "out_relu"),
    "efficientnetb0": (["stem_activation", "block2b_add", "block6a_se_excite"], "top_activation"),
    "densenet121": (["pool1", "conv3_block12_concat", "pool4_pool"], "relu"),
    "vgg19bn": (["conv2d", "max_pooling2d_2", "dense"], "activation_15"),
    "nested": (["stem", "shared", "up"], "cat"),
    "book": (["block1_conv1", "block2_sep", "block2_cat"], "block2_conv2"),
}


def nchw(a):
    a = np.asarray(a, dtype=np.float32)
    return a.transpose(0, 3, 1, 2) if a.ndim == 4 else a


def references(name, model, size, manifest):
    layers_, cam_layer = MODELS[name]
    rng = np.random.default_rng(7)
    x = rng.random((1, size, size, 3)).astype(np.float32)
    if name == "efficientnetb0":
        x = x * 255                                           # its Rescaling(1/255) is inside the model
    np.save(f"{OUT}/{name}_input.npy", nchw(x))
    out = np.asarray(model.predict(x, verbose=0))
    np.save(f"{OUT}/{name}_output.npy", nchw(out))
    entry = {"input": f"{name}_input.npy", "output": f"{name}_output.npy", "layers": {}, "size": size}
    for l in layers_:
        sub = keras.Model(model.inputs, model.get_layer(l).output)
        np.save(f"{OUT}/{name}_{l}.npy", nchw(sub.predict(x, verbose=0)))
        entry["layers"][l] = f"{name}_{l}.npy"
    # Grad-CAM (Selvaraju et al., 2017) through torch autograd on the torch backend: weights = mean over H, W of
    # d output[k] / d A, cam = ReLU(sum_c w_c A_c).
    k = int(out.reshape(-1).argmax())
    if isinstance(model, keras.Sequential):                   # its layers called one by one, so A feeds Z
        Z = torch.tensor(x)
        for layer in model.layers:
            Z = layer(Z)
            if layer.name == cam_layer: A = Z
    else:
        A, Z = keras.Model(model.inputs, [model.get_layer(cam_layer).output, model.outputs[0]])(torch.tensor(x))
    g, = torch.autograd.grad(Z.reshape(-1)[k], A)             # A: (1, H, W, C)
    cam = torch.relu((g.mean((1, 2), keepdim=True) * A).sum(-1))[None]          # (1, 1, h, w)
    # As pytorch-grad-cam and shared/checks/keras.sh finish it: bilinear to the input, then min-max.
    cam = torch.nn.functional.interpolate(cam, size=(size, size), mode="bilinear", align_corners=False)[0, 0].detach().numpy()
    np.save(f"{OUT}/{name}_gradcam.npy", ((cam - cam.min()) / (cam.max() + 1e-7)).astype(np.float32))
    assert cam.max() > 0 and cam.std() > 1e-3 * cam.max(), f"{name}: the Grad-CAM at {cam_layer} is flat ({cam.min()}, {cam.max()}, {cam.std()}); reseed the weights"
    entry.update(camLayer=cam_layer, camClass=k, gradcam=f"{name}_gradcam.npy")
    manifest[name] = entry


def save(name, model):
    model.save(f"{OUT}/{name}.keras")
    model.save(f"{OUT}/{name}.h5")
    with h5py.File(f"{OUT}/{name}_weights.h5", "w") as f:   # keras.applications' weights-only layout
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def hdf5_cases():
    """Small files in every form the reader handles, and what h5py reads in them."""
    d = f"{OUT}/hdf5"; os.makedirs(d, exist_ok=True); os.makedirs(FUZZ, exist_ok=True)
    rng = np.random.default_rng(3)
    arrays = {
        "f32": rng.standard_normal((3, 4, 5)).astype(np.float32), "f16": rng.standard_normal((7,)).astype(np.float16),
        "f64": rng.standard_normal((2, 3)), "i8": np.array([-128, -1, 0, 127], np.int8), "u8": np.array([0, 200, 255], np.uint8),
        "i32": np.arange(-5, 5, dtype=np.int32).reshape(2, 5), "i64": np.array([-(2 ** 40), 2 ** 40]), "u16": np.array([65535, 1], np.uint16),
        "scalar": np.float32(2.5), "empty": np.zeros((0, 3), np.float32), "big_endian": np.arange(6, dtype=">f4").reshape(2, 3),
    }
    attrs = {"text": "a variable-length string", "unicode": "naïve ☃", "names": [b"conv1", b"bn_conv1", b"fc1000"],
             "fixed": np.array([b"ab", b"xyz"], dtype="S3"), "floats": np.array([1.5, -2.0]), "ints": np.array([1, 2, 3], np.int32),
             "empty_list": np.array([], dtype=np.float64), "vlen_list": np.array(["x", "yy", ""], dtype=h5py.string_dtype())}
    manifest = {}
    for fname, kw, chunked in [("default.h5", {}, False), ("latest.h5", {"libver": "latest"}, False), ("chunked.h5", {}, True)]:
        with h5py.File(f"{d}/{fname}", "w", **kw) as f:
            # At most 8 links a group: past that libver='latest' moves links to a fractal heap (dense.h5 below).
            for i, (k, a) in enumerate(arrays.items()):
                g = f.require_group("group/nested" if i < 6 else "group/more")
                opts = {}
                if chunked and np.ndim(a) >= 1 and np.size(a) > 0:
                    opts = {"chunks": tuple(max(1, s // 2) for s in np.shape(a))}
                    if k in ("f32", "i32"): opts.update(compression="gzip", shuffle=True)
                    if k == "f64": opts.update(compression="gzip")
                g.create_dataset(k, data=a, **opts)
            for k, v in attrs.items():
                f.attrs[k] = v
            f["group"].attrs["answer"] = 42
            f["group/nested/f32"].attrs["unit"] = "volts"
            f["group/hard_link"] = f["group/nested/f16"]
        with h5py.File(f"{d}/{fname}", "r") as f:
            entry = {"datasets": {}, "attributes": {}, "superblock": int(open(f"{d}/{fname}", "rb").read(9)[8])}
            def visit(path, obj):
                if isinstance(obj, h5py.Dataset):
                    entry["datasets"][path] = {"shape": list(obj.shape), "dtype": str(obj.dtype.newbyteorder("=")),
                                               "values": np.asarray(obj[()], dtype=np.float64).reshape(-1).tolist()}
                for k, v in obj.attrs.items():
                    entry["attributes"].setdefault(path, {})[k] = jsonable(v)
            f.visititems(visit)
            for k, v in f.attrs.items():
                entry["attributes"].setdefault("", {})[k] = jsonable(v)
        manifest[fname] = entry
    with h5py.File(f"{d}/dense.h5", "w", libver="latest") as f:
        for i in range(12): f[f"d{i}"] = np.float32(i)
    json.dump(manifest, open(f"{d}/manifest.json", "w"), indent=1, sort_keys=True)
    for name in os.listdir(d):                                # the fuzz target's seeds
        if name.endswith(".h5"): open(f"{FUZZ}/{name}", "wb").write(open(f"{d}/{name}", "rb").read())


def jsonable(v):
    if isinstance(v, (bytes, str)): return [v.decode() if isinstance(v, bytes) else v]
    a = np.asarray(v)
    if a.dtype.kind in "SOU": return [s.decode() if isinstance(s, bytes) else str(s) for s in a.reshape(-1)]
    return a.astype(np.float64).reshape(-1).tolist()


def hostile():
    d = f"{OUT}/hostile"; os.makedirs(d, exist_ok=True)
    keras.backend.clear_session()
    inp = keras.Input((8, 8, 3))
    m = keras.Model(inp, L.Dense(3, name="head")(L.Flatten(name="flat")(L.Conv2D(4, 3, name="conv")(inp))))
    m.save(f"{d}/small.h5")
    data = open(f"{d}/small.h5", "rb").read()
    open(f"{d}/truncated.h5", "wb").write(data[: len(data) // 2])
    # A dataset whose dataspace claims 2^40 x 2^40 elements: the first dimension of the conv kernel patched.
    with h5py.File(f"{d}/absurd.h5", "w") as f:
        f.create_dataset("w", data=np.arange(12, dtype=np.float32).reshape(3, 4))
    raw = bytearray(open(f"{d}/absurd.h5", "rb").read())
    i = raw.find(np.array([3, 4], "<u8").tobytes())           # the dataspace's two 8-byte dimensions
    assert i > 0
    raw[i: i + 16] = np.array([2 ** 40, 2 ** 40], "<u8").tobytes()
    open(f"{d}/absurd.h5", "wb").write(bytes(raw))
    with h5py.File(f"{d}/external.h5", "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Functional", "config": {"layers": []}})
        f.create_group("model_weights")["conv"] = h5py.ExternalLink("/etc/passwd", "/weights")
    # A config naming a class ConvLens does not know, and one with a Lambda layer (Python code).
    cfg = json.loads(m.to_json())
    for l in cfg["config"]["layers"]:
        if l["config"]["name"] == "flat": l["class_name"] = "FancyFlatten"
    m.save(f"{d}/unknown_class.h5")
    with h5py.File(f"{d}/unknown_class.h5", "a") as f: f.attrs["model_config"] = json.dumps(cfg)
    inp = keras.Input((8, 8, 3))
    keras.Model(inp, L.Lambda(lambda t: t * 2, name="double_it")(inp)).save(f"{d}/lambda.h5")
    # A weight whose shape disagrees with the config: the config says 5 filters, the file holds 4.
    cfg = json.loads(m.to_json())
    for l in cfg["config"]["layers"]:
        if l["config"]["name"] == "conv": l["config"]["filters"] = 5
    m.save(f"{d}/mismatch.h5")
    with h5py.File(f"{d}/mismatch.h5", "a") as f: f.attrs["model_config"] = json.dumps(cfg)
    # A Reshape to 2^40 x 2^40, whose product overflows 64 bits.
    cfg = json.loads(m.to_json())
    for l in cfg["config"]["layers"]:
        if l["config"]["name"] == "flat": l["class_name"], l["config"]["target_shape"] = "Reshape", [2 ** 40, 2 ** 40]
    m.save(f"{d}/huge_reshape.h5")
    with h5py.File(f"{d}/huge_reshape.h5", "a") as f: f.attrs["model_config"] = json.dumps(cfg)
    os.remove(f"{d}/small.h5")
    # Seeds for the fuzz target: a tiny model in each format, and the bad files.
    keras.backend.clear_session()
    inp = keras.Input((4, 4, 3))
    tiny = keras.Model(inp, L.Dense(2, name="d")(L.Flatten()(L.BatchNormalization()(L.Conv2D(2, 1, name="c")(inp)))))
    tiny.save(f"{FUZZ}/tiny.keras"); tiny.save(f"{FUZZ}/tiny.h5")
    with h5py.File(f"{FUZZ}/tiny_weights.h5", "w") as f: legacy_h5_format.save_weights_to_hdf5_group(f, tiny)
    for name in ("absurd.h5", "external.h5", "lambda.h5", "truncated.h5"):
        open(f"{FUZZ}/{name}", "wb").write(open(f"{d}/{name}", "rb").read())


# keras.applications' weights files for the opt-in full-size test: file prefix → (constructor, preprocess mode).
FULL = {"vgg16": ("VGG16", "caffe"), "vgg19": ("VGG19", "caffe"), "resnet50": ("ResNet50", "caffe"),
        "mobilenet_v2": ("MobileNetV2", "tf")}


def full(folder):
    """References for full-size keras.applications models whose weights files (as Keras downloads them to
    ~/.keras/models) are in `folder`: <file>.input.npy (1, 3, 224, 224) and <file>.output.npy, Keras's predict."""
    for f in sorted(os.listdir(folder)):
        app = next((a for a in FULL if f.startswith(a + "_weights")), None)
        if app is None or not f.endswith(".h5"): continue
        keras.backend.clear_session()
        ctor = getattr(keras.applications, FULL[app][0])
        model = ctor(weights=f"{folder}/{f}", include_top="notop" not in f, input_shape=(224, 224, 3))
        x = np.random.default_rng(11).uniform(-1, 1, (1, 224, 224, 3)).astype(np.float32)
        np.save(f"{folder}/{f}.input.npy", nchw(x))
        np.save(f"{folder}/{f}.output.npy", nchw(model.predict(x, verbose=0)))
        print(f"{f}: {app}, output {model.output_shape}")


def main():
    if sys.argv[1:2] == ["--full"]:
        return full(sys.argv[2])
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(MODELS)
    hdf5_cases()
    hostile()
    if names == ["hdf5"]: return                              # the reader's files alone
    path = f"{OUT}/manifest.json"
    manifest = json.load(open(path)) if os.path.exists(path) else {}
    for name in names:
        model, size = build(name)
        same_structure(name, model)
        randomise(model, seed=sorted(MODELS).index(name), gain=6.0 if name == "vgg16" else 3.0)
        save(name, model)
        references(name, model, size, manifest)
        sizes = [os.path.getsize(f"{OUT}/{name}{s}") for s in (".keras", ".h5", "_weights.h5")]
        print(f"{name}: {len(model.layers)} layers, {model.count_params()} parameters, files {sizes} bytes")
        assert max(sizes) <= 2_000_000, f"{name} is over 2 MB"
    json.dump(manifest, open(path, "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
