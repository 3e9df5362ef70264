import Engine

extension EfficientNet {
    /// torchvision's efficientnet_b0 ... _b7: `features.0` the stem, `features.1` ... `.7` the stages of MBConv blocks
    /// (`features.N.M.block.K`: expand, depthwise, squeeze-excitation, project, each a Conv2dNormActivation or an
    /// SE module), `features.8` the head, `classifier.1` the linear layer. Symmetric padding (k − 1) / 2, SiLU, SE
    /// with SiLU and a sigmoid gate, BatchNorm epsilon 1e-5 (1e-3 for B5 to B7, whose weights came from
    /// efficientnet_pytorch); stochastic depth is the identity at inference and has no node. A block's output is
    /// named after it (an Add when it has a residual), a stage after its last block, `features` is the head.
    static func buildTorchvision(_ b: Int, _ v: Variant) -> Graph {
        let s = bScaling[b], eps: Float = b >= 5 ? 1e-3 : 1e-5
        func ch(_ c: Int) -> Int { max(1, c / v.widthDivisor) }  // channels of the narrow copy
        let (stem, blocks, head) = self.blocks(s, lite: false)
        let g = Graph(), f = Scope(g, "features")
        var x = f.convNormAct("0", 3, ch(stem), 3, stride: 2, eps: eps, activation: L.silu(), from: Graph.inputName)
        var stage = 1, index = 0
        for (i, blk) in blocks.enumerated() {
            if i > 0 && blk.stage != blocks[i - 1].stage {
                g.alias(f.name("\(stage)"), x)
                stage += 1
                index = 0
            }
            let bs = f.child(stage).child(index), body = bs.child("block")
            let hidden = roundFilters(blk.input * blk.expand, 1)
            var h = x, k = 0
            if hidden != blk.input {
                h = body.convNormAct("\(k)", ch(blk.input), ch(hidden), 1, eps: eps, activation: L.silu(), from: h)
                k += 1
            }
            h = body.convNormAct("\(k)", ch(hidden), ch(hidden), blk.kernel, stride: blk.stride, groups: ch(hidden), eps: eps,
                                 activation: L.silu(), from: h)
            h = body.squeezeExcitation("\(k + 1)", ch(hidden), ch(max(1, blk.input / 4)), activation: L.silu(), scale: L.sigmoid(), from: h)
            h = body.convNormAct("\(k + 2)", ch(hidden), ch(blk.output), 1, eps: eps, activation: nil, from: h)
            g.alias(body.prefix, h)
            if blk.stride == 1 && blk.input == blk.output {
                x = bs.add("", Add(), inputs: [h, x])
            } else {
                g.alias(bs.prefix, h)
                x = h
            }
            index += 1
        }
        g.alias(f.name("\(stage)"), x)
        let last = f.convNormAct("\(stage + 1)", ch(blocks.last!.output), ch(head), 1, eps: eps, activation: L.silu(), from: x)
        g.alias("features", last)
        Scope(g).add("avgpool", AdaptiveAvgPool2d(1, 1))
        Scope(g).add("flatten", Flatten())
        Scope(g, "classifier").add("0", Dropout(0.2))
        Scope(g, "classifier").add("1", Linear(ch(head), v.classes))
        return g
    }
}
