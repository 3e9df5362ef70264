import Engine
import TensorIO

// The kernel demo's pipeline on the engine's layers: Conv2d, ActivationLayer, MaxPool2d, AvgPool2d and
// AdaptiveAvgPool2d. What the engine lacks today is done here by small local functions, each marked ENGINE, to be
// moved onto the engine's op set: asymmetric (SAME) padding, transposed convolution and depth-wise max pooling.
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

    /// Cross-correlation as PyTorch's conv2d and TensorFlow's tf.nn.conv2d compute it: the input padded as the plan
    /// says (SAME may put one more row or column after than before), then an unpadded Conv2d.
    /// - Returns: (1, N, Ho, Wo).
    static func convolution(_ spec: KernelFile, _ col: KernelFile.Column, _ x: Tensor) -> Tensor {
        let (w, b) = filters(spec)
        let conv = Conv2d(spec.channels, spec.kernels.count, kernel: spec.kernelSize, stride: spec.stride)
        conv.weight = w
        conv.bias = b
        // ENGINE: asymmetric padding; Conv2d pads both sides alike.
        let padded = shifted(x, height: col.rows.canvas, width: col.columns.canvas, top: col.rows.before, left: col.columns.before)
        var y = Tensor(zeros: [0])                           // (1, N, Ho, Wo)
        conv.forward([padded], &y)
        return y
    }

    /// ENGINE: transposed convolution (PyTorch's ConvTranspose2d, TensorFlow's conv2d_transpose): each input pixel
    /// adds its value times a kernel into the output, stride pixels apart; it is the input gradient of the
    /// convolution with the same kernels, so Conv2d's backward computes it, with the kernels' two channel axes
    /// swapped. The full result, (H − 1)·stride + k on each side, is then cropped (or, for SAME with k < stride,
    /// extended with zeros) to the planned output, and the bias added everywhere.
    /// - Returns: (1, N, Ho, Wo).
    static func transposedConvolution(_ spec: KernelFile, _ col: KernelFile.Column, _ x: Tensor) -> Tensor {
        let (n, c, k) = (spec.kernels.count, spec.channels, spec.kernelSize)
        let (w, b) = filters(spec)                           // (N, C, k, k), (N)
        // The convolution from N channels to C whose input gradient is this: weight (C, N, k, k).
        let conv = Conv2d(n, c, kernel: k, stride: spec.stride, bias: false)
        var swapped = Tensor(zeros: [c, n, k, k])            // (C, N, k, k)
        for i in 0 ..< n { for j in 0 ..< c { for q in 0 ..< k * k { swapped.data[(j * n + i) * k * k + q] = w.data[(i * c + j) * k * k + q] } } }
        conv.weight = swapped
        let shape = [1, n, col.rows.canvas, col.columns.canvas]
        let full = conv.backward([Tensor(uninitialized: shape)], x, x, needed: [true])[0]!   // (1, N, Hf, Wf)
        precondition(full.shape == shape, "KernelDemo: transposed convolution gave \(full.shape), planned \(shape)")
        var y = shifted(full, height: col.rows.output, width: col.columns.output, top: -col.rows.before, left: -col.columns.before)
        let plane = col.rows.output * col.columns.output
        for i in 0 ..< n { for p in 0 ..< plane { y.data[i * plane + p] += b.data[i] } }
        return y                                             // (1, N, Ho, Wo)
    }

    /// ENGINE: padding and cropping in one: each plane of x placed in a zero plane of height x width with its
    /// top-left corner at (top, left), which may be negative (cropped) or past the new size.
    /// - Parameters:
    ///   - x: (1, C, H, W).
    /// - Returns: (1, C, height, width).
    static func shifted(_ x: Tensor, height: Int, width: Int, top: Int, left: Int) -> Tensor {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        if (height, width, top, left) == (h, w, 0, 0) { return x }
        var y = Tensor(zeros: [1, c, height, width])         // (1, C, height, width)
        // The source rows and columns that land inside.
        let (i0, i1) = (max(0, -top), min(h, height - top)), (j0, j1) = (max(0, -left), min(w, width - left))
        guard i0 < i1 && j0 < j1 else { return y }
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for ch in 0 ..< c {
                    for i in i0 ..< i1 {
                        let src = xp.baseAddress! + (ch * h + i) * w + j0
                        (yp.baseAddress! + (ch * height + i + top) * width + left + j0).update(from: src, count: j1 - j0)
                    }
                }
            }
        }
        return y
    }

    /// ENGINE: depth-wise max pooling, TensorFlow's tf.nn.max_pool with ksize (1, 1, 1, d) and equal strides,
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
