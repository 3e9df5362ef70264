import Engine
import Foundation
import Models

/// `convlens layers`: every named layer with its type, output shape and parameter count, then the totals.
public enum LayerTable {
    public struct Row {
        public let name: String
        public let kind: String
        public let summary: String
        public let shape: [Int]
        public let parameters: Int
        public let macs: Int
    }

    /// One row per layer at the model's input size (batch 1).
    public static func rows(_ model: Model) throws -> [Row] {
        let g = model.graph
        let shapes = try g.shapes(input: model.inputShape)
        // Constants (an imported model's initializers read as inputs) are parameters of the op that reads them.
        return g.nodes.enumerated().filter { !($0.element.layer is Constant) }.map { i, node in
            let ins = node.inputs.map { $0 == Graph.inputIndex ? model.inputShape : shapes[$0] }
            return Row(name: node.name, kind: node.layer.kind, summary: node.layer.summary, shape: shapes[i],
                       parameters: node.layer.parameterCount + node.inputs.filter { g.isConstant($0) }.reduce(0) { $0 + shapes[$1].reduce(1, *) },
                       macs: node.layer.macs(ins, shapes[i]))
        }
    }

    /// The table as text, with totals of parameters and multiply-adds.
    public static func text(_ model: Model) throws -> String {
        let rows = try rows(model)
        let nameWidth = max(24, (rows.map(\.name.count).max() ?? 0) + 2)
        var out = "\(model.name) (\(model.architecture.layout) layout, weights: \(model.source)), input \(model.inputShape.map(String.init).joined(separator: "x"))\n"
        out += pad("layer", nameWidth) + pad("type", 18) + pad("output", 20) + pad("parameters", 14) + "configuration\n"
        for r in rows {
            out += pad(r.name, nameWidth) + pad(r.kind, 18) + pad(r.shape.map(String.init).joined(separator: "x"), 20)
                + pad(r.parameters > 0 ? grouped(r.parameters) : "-", 14) + r.summary + "\n"
        }
        let total = rows.reduce(0) { $0 + $1.parameters }, macs = rows.reduce(0) { $0 + $1.macs }
        out += "total parameters: \(grouped(total))\n"
        out += String(format: "multiply-adds: %.2f G (%.2f GFLOP) per image\n", Double(macs) / 1e9, 2 * Double(macs) / 1e9)
        return out
    }

    /// 1234567 as "1,234,567".
    public static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }
}

/// A table column: `s` and at least one space, padded to `n` characters (the text tables of layers, weights, profiles).
func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
