extension Graph {
    /// An inference copy with BatchNorm folded into the convolution before it, and a residual sum and ReLU/ReLU6 fused
    /// into the convolution's (or a residual sum's) epilogue, wherever the intermediate output is not needed: the conv
    /// (or folded BN) feeds only that layer, and no name involved is in `keeping`. A fused node takes the name of the
    /// last layer it absorbs, whose output it computes exactly, and its place in the order; the absorbed names
    /// disappear, and aliases to them with them. Only an alias that is a mere spelling (`spellings`) may name an
    /// absorbed output: any other alias keeps its target whole.
    ///
    /// Folding: w′[o] = w[o]·s[o], b′[o] = b[o]·s[o] + t[o], with the BN's affine map y = s·x + t.
    ///
    /// The copy shares the layers it does not fuse with this graph. That is safe because passes only read layers
    /// (a convolution makes its Winograd filters once, under a lock): set parameters before fusing, and run each
    /// graph one pass at a time.
    /// - Parameter keeping: names that must stay separate layers (hooks, CAM targets, ReLUs a backward pass treats
    ///   as linear).
    public func fused(keeping: Set<String> = []) -> Graph {
        let kept = Set(keeping.compactMap { try? index(of: $0) })
        let aliasedTo = Set(aliases.filter { !spellings.contains($0.key) }.values.compactMap { indexByNameLookup($0) })
        var absorbedInto = [Int: Int]()        // absorbed node → the node that now computes the fused output
        /// Whether node j may be absorbed into the node i feeding it (and not already into another).
        func absorbable(_ i: Int, _ j: Int) -> Bool {
            consumers[i] == [j] && !kept.contains(i) && !kept.contains(j) && !aliasedTo.contains(i) && absorbedInto[j] == nil
        }
        // Per fusing node: the fused layer, the last node it absorbs (where it goes in the new graph, after every
        // input it reads), and the inputs it reads besides its own (a fused residual).
        var plans = [Int: (layer: Layer, last: Int, extra: [Int])]()
        for (i, node) in nodes.enumerated() {
            // A residual sum followed by its ReLU: one pass over the block's output instead of two.
            if let add = node.layer as? Add, add.activation == .none, absorbedInto[i] == nil, let k = consumers[i].first,
               absorbable(i, k), let act = nodes[k].layer as? ActivationLayer {
                absorbedInto[k] = i
                plans[i] = (Add(activation: act.activation), k, [])
                continue
            }
            guard let conv = node.layer as? Conv2d, conv.activation == .none, absorbedInto[i] == nil else { continue }
            var weight = conv.weight, bias = conv.bias ?? Tensor(zeros: [conv.outChannels]), last = i, activation = Activation.none
            if let j = consumers[i].first, absorbable(i, j), let bn = nodes[j].layer as? BatchNorm2d {
                let (s, t) = bn.affine
                let per = weight.count / conv.outChannels
                for o in 0 ..< conv.outChannels {
                    for k in o * per ..< (o + 1) * per { weight.data[k] *= s[o] }
                    bias.data[o] = bias.data[o] * s[o] + t[o]
                }
                absorbedInto[j] = i
                last = j
            }
            // The residual sum the convolution (or its BatchNorm) feeds alone: added as the output is stored, which
            // saves a pass that reads two block-sized tensors and writes a third.
            var extra: [Int] = []
            if !conv.isDepthwise, let k = consumers[last].first, absorbable(last, k), let add = nodes[k].layer as? Add,
               nodes[k].inputs.count == 2, let other = nodes[k].inputs.first(where: { $0 != last }) {
                extra = [other]
                activation = add.activation
                absorbedInto[k] = i
                last = k
            }
            if activation == .none, let k = consumers[last].first, absorbable(last, k), let act = nodes[k].layer as? ActivationLayer {
                activation = act.activation
                absorbedInto[k] = i
                last = k
            }
            if last == i { continue }
            let fused = Conv2d(conv.inChannels, conv.outChannels, kernel: (conv.kernel.h, conv.kernel.w), stride: (conv.stride.h, conv.stride.w),
                               padding: conv.padding, dilation: (conv.dilation.h, conv.dilation.w),
                               groups: conv.groups, bias: true)
            fused.weight = weight
            fused.bias = bias
            fused.activation = activation
            fused.residual = !extra.isEmpty
            fused.algorithm = conv.algorithm
            plans[i] = (fused, last, extra)
        }
        let g = Graph()
        var newName = [Int: String]()        // old index → name of the node computing its output in g
        func names(_ inputs: [Int]) -> [String] { inputs.map { j in j == Graph.inputIndex ? Graph.inputName : newName[j]! } }
        for (i, node) in nodes.enumerated() {
            if let owner = absorbedInto[i] {
                // A fused node goes where its last layer was: a residual branch may be computed after its convolution.
                if let plan = plans[owner], plan.last == i {
                    newName[i] = g.add(nodes[i].name, plan.layer, inputs: names(nodes[owner].inputs + plan.extra))
                }
                continue
            }
            if plans[i] == nil { newName[i] = g.add(node.name, node.layer, inputs: names(node.inputs)) }
        }
        for (alias, target) in aliases.sorted(by: { $0.key < $1.key }) {
            if target == Graph.inputName {
                g.alias(alias, target, spelling: spellings.contains(alias))
            } else if let t = try? index(of: target), t >= 0, let name = newName[t],
                      absorbedInto[t] == nil || plans[absorbedInto[t]!]?.last == t {
                g.alias(alias, name, spelling: spellings.contains(alias))
            }
        }
        g.profile = profile
        g.passes = passes
        return g
    }
}
