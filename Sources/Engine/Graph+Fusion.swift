extension Graph {
    /// An inference copy with BatchNorm folded into the convolution before it and ReLU/ReLU6 fused into the
    /// convolution's (or a residual sum's) epilogue, wherever the intermediate output is not needed: the conv (or folded BN) feeds only
    /// that layer, and no name involved is in `keeping`. A fused node takes the name of the last layer it absorbs,
    /// whose output it computes exactly; the absorbed names disappear, and aliases to them with them. Only an alias
    /// that is a mere spelling (`spellings`) may name an absorbed output: any other alias keeps its target whole.
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
        /// Whether node j may be absorbed into the node i feeding it.
        func absorbable(_ i: Int, _ j: Int) -> Bool {
            consumers[i] == [j] && !kept.contains(i) && !kept.contains(j) && !aliasedTo.contains(i)
        }
        var absorbedInto = [Int: Int]()        // absorbed node → the node that now computes the fused output
        var plans = [Int: (layer: Layer, last: Int)]()
        for (i, node) in nodes.enumerated() {
            // A residual sum followed by its ReLU: one pass over the block's output instead of two.
            if let add = node.layer as? Add, add.activation == .none, let k = consumers[i].first, absorbable(i, k),
               let act = nodes[k].layer as? ActivationLayer {
                absorbedInto[k] = i
                plans[i] = (Add(activation: act.activation), k)
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
            if let k = consumers[last].first, absorbable(last, k), let act = nodes[k].layer as? ActivationLayer {
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
            fused.algorithm = conv.algorithm
            plans[i] = (fused, last)
        }
        let g = Graph()
        var newName = [Int: String]()        // old index → name of the node computing its output in g
        for (i, node) in nodes.enumerated() {
            if let owner = absorbedInto[i] {
                if plans[owner]?.last == i { newName[i] = nodes[i].name }
                continue
            }
            let inputs = node.inputs.map { j in j == Graph.inputIndex ? Graph.inputName : newName[j]! }
            if let plan = plans[i] {
                newName[i] = g.add(nodes[plan.last].name, plan.layer, inputs: inputs)
            } else {
                newName[i] = g.add(node.name, node.layer, inputs: inputs)
            }
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
