import Engine
import TensorIO

// The kernel demo's pipeline on the engine's layers: Conv2d (with SAME's uneven padding), ConvTranspose2d,
// ActivationLayer, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d; depth-wise max pooling is a small local function.
extension KernelDemo {
    /// Runs the convolution, the ReLU and each pooling for every padding the file lists.
    /// - Parameters:
    ///   - spec: the kernel file.
    ///   - plan: `spec.plan` for this input's size; every shape computed here must match it.
    ///   - x: the input, (1, C, H, W).
    public static func compute(_ spec: KernelFile, _ plan: KernelFile.Plan, _ x: Tensor) -> [Column] {
        precondition(Array(x.shape.dropFirst()) == plan.input, "KernelDemo: input \(x.shape) is not the planned \(plan.input)")
        return plan.columns.map { col in
            let y = spec.transpose ? transposedConvolution(spec, col, x) : convolution(spec, col, x)  // (1, N, Ho, Wo)
            var r = Tensor(zeros: [0])                                                                  // (1, N, Ho, Wo)
            ActivationLayer(.relu).forward([y], &r)
            let pooled = col.pooled.map { kind, shape in
                var p = Tensor(zeros: [0])                                                              // (1, ...shape)
                switch kind {
                case .max: MaxPool2d(kernel: spec.pool).forward([r], &p)
                case .average: AvgPool2d(kernel: spec.pool).forward([r], &p)
                case .depthMax: p = depthMaxPool(r, window: spec.depthPool)
                case .globalAverage: AdaptiveAvgPool2d(1, 1).forward([r], &p)
                }
                precondition(Array(p.shape.dropFirst()) == shape, "KernelDemo: \(kind) gave \(p.shape), planned \(shape)")
                return (kind: kind, output: p)
            }
            precondition(Array(y.shape.dropFirst()) == col.conv, "KernelDemo: convolution gave \(y.shape), planned \(col.conv)")
            return Column(plan: col, conv: y, relu: r, pooled: pooled)
        }
    }

    /// The kernels as a layer's filters, (N, C, k, k), and their biases, (N).
    static func filters(_ spec: KernelFile) -> (weight: Tensor, bias: Tensor) {
        let (n, c, k) = (spec.kernels.count, spec.channels, spec.kernelSize)
        return (Tensor(shape: [n, c, k, k], data: spec.kernels.flatMap(\.weights)), Tensor(shape: [n], data: spec.kernels.map(\.bias)))
    }

    /// Cross-correlation as PyTorch's conv2d and TensorFlow's tf.nn.conv2d compute it, padded as the plan says (SAME
    /// may put one more row or column after than before).
    /// - Returns: (1, N, Ho, Wo).
    static func convolution(_ spec: KernelFile, _ col: KernelFile.Column, _ x: Tensor) -> Tensor {
        let (w, b) = filters(spec)
        let (h, wd) = (x.shape[2], x.shape[3])
        let pad = Padding(top: col.rows.before, left: col.columns.before, bottom: col.rows.canvas - h - col.rows.before,
                          right: col.columns.canvas - wd - col.columns.before)
        let conv = Conv2d(spec.channels, spec.kernels.count, kernel: (spec.kernelSize, spec.kernelSize), stride: (spec.stride, spec.stride),
                          padding: pad, dilation: (1, 1), groups: 1, bias: true)
        conv.weight = w
        conv.bias = b
        var y = Tensor(zeros: [0])                           // (1, N, Ho, Wo)
        conv.forward([x], &y)
        return y
    }

    /// Transposed convolution (PyTorch's ConvTranspose2d, TensorFlow's conv2d_transpose): each input pixel adds its
    /// value times a kernel into the output, stride pixels apart. The full result, (H − 1)·stride + k on each side,
    /// is cropped by the plan's padding, or, for SAME with k < stride, extended at the end (output padding).
    /// - Returns: (1, N, Ho, Wo).
    static func transposedConvolution(_ spec: KernelFile, _ col: KernelFile.Column, _ x: Tensor) -> Tensor {
        let (n, c, k, s) = (spec.kernels.count, spec.channels, spec.kernelSize, spec.stride)
        let (w, b) = filters(spec)                           // (N, C, k, k), (N)
        // ConvTranspose2d's weight is (in, out, k, k): the kernels' two channel axes swapped, (C, N, k, k).
        var swapped = Tensor(zeros: [c, n, k, k])
        for i in 0 ..< n { for j in 0 ..< c { for q in 0 ..< k * k { swapped.data[(j * n + i) * k * k + q] = w.data[(i * c + j) * k * k + q] } } }
        /// (begin, end, output padding) for one axis of `size` pixels.
        func axis(_ size: Int, _ a: KernelFile.Axis) -> (Int, Int, Int) {
            let full = (size - 1) * s + k, extra = Swift.max(0, a.output + a.before - full)
            return (a.before, full + extra - a.output - a.before, extra)
        }
        let (t, bt, eh) = axis(x.shape[2], col.rows), (l, r, ew) = axis(x.shape[3], col.columns)
        let layer = ConvTranspose2d(c, n, kernel: (k, k), stride: (s, s), padding: Padding(top: t, left: l, bottom: bt, right: r),
                                    outputPadding: (eh, ew))
        layer.weight = swapped
        layer.bias = b
        var y = Tensor(zeros: [0])                           // (1, N, Ho, Wo)
        layer.forward([x], &y)
        return y
    }

    /// Depth-wise max pooling, TensorFlow's tf.nn.max_pool with ksize (1, 1, 1, d) and equal strides,
    /// VALID: the maximum over each group of `window` consecutive channels at every pixel.
    /// - Parameters:
    ///   - x: (1, N, H, W), N a multiple of `window`.
    /// - Returns: (1, N / window, H, W).
    static func depthMaxPool(_ x: Tensor, window: Int) -> Tensor {
        let (n, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        precondition(n % window == 0, "depthMaxPool: \(n) channels do not split into groups of \(window)")
        var y = Tensor(shape: [1, n / window, x.shape[2], x.shape[3]], repeating: -.infinity)   // (1, N/d, H, W)
        for ch in 0 ..< n {
            let src = ch * plane, dst = ch / window * plane
            for p in 0 ..< plane { y.data[dst + p] = max(y.data[dst + p], x.data[src + p]) }
        }
        return y
    }
}
