import ArgumentParser
import ConvLens

extension GradCAM {
    /// `gradcam MANIFEST`: one map per image (K with --top K), streamed in batches; with --out DIR, the maps as
    /// (N, H, W) or (N, K, H, W) .npy per shard.
    func runDataset() throws {
        guard raw == nil, !panel else { throw ValidationError("--raw and --panel are for single runs; in dataset mode give --out DIR") }
        try dataset.run(images, model: model, out: out) { lm, d in
            var o = GradCAMOptions()
            o.method = method
            o.layers = layer
            o.targets = target.isEmpty ? classes.map { .value(.logit($0)) } : target
            o.reshape = reshape
            o.alpha = alpha
            o.colormap = colormap
            o.view = view
            return try DatasetWork.gradcam(lm, options: o, dataset: d, top: top)
        }
    }
}
