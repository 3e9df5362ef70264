import Foundation

extension ObjectiveSpec {
    /// The JSON form: a list of terms, or {"terms": [...]}; each term an object with "type" (channel, neuron,
    /// direction, diversity, l2, tv), "weight" (default 1) and the type's fields: "layer" (optional with a default
    /// layer; an l2 without one is the image's), "channel", "y" and "x" (neuron), "vector" (direction: C numbers, or
    /// {"C": W}).
    /// - Throws: an `ObjectiveError` naming the term and the key that is wrong.
    static func parseJSON(_ text: String) throws -> ObjectiveSpec {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
            throw ObjectiveError("cannot read the objective as JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? "\(error)")")
        }
        var list = root as? [Any]
        if let object = root as? [String: Any] {
            guard Set(object.keys) == ["terms"], let terms = object["terms"] as? [Any] else {
                throw ObjectiveError("a JSON objective is a list of terms, or an object with only \"terms\": [...]")
            }
            list = terms
        }
        guard let list, !list.isEmpty else { throw ObjectiveError("a JSON objective needs at least one term") }
        let fields: [String: Set<String>] = [
            "channel": ["layer", "channel"], "neuron": ["layer", "channel", "y", "x"], "direction": ["layer", "vector"],
            "diversity": ["layer"], "l2": ["layer"], "tv": [],
        ]
        return ObjectiveSpec(terms: try list.enumerated().map { k, item in
            let at = "term \(k + 1) of the JSON objective"
            guard let t = item as? [String: Any] else { throw ObjectiveError("\(at) is not an object") }
            guard let type = t["type"] as? String, let allowed = fields[type] else {
                throw ObjectiveError("\(at): \"type\" must be one of \(fields.keys.sorted().joined(separator: ", "))")
            }
            if let bad = Set(t.keys).subtracting(allowed.union(["type", "weight"])).sorted().first {
                throw ObjectiveError("\(at): unknown key \"\(bad)\" for a \(type) term; it takes \((["weight"] + allowed.sorted()).joined(separator: ", "))")
            }
            func number(_ key: String) throws -> Double? {
                guard let v = t[key] else { return nil }
                guard let n = v as? NSNumber, String(cString: n.objCType) != "c", n.doubleValue.isFinite else {   // "c": true, false
                    throw ObjectiveError("\(at): \"\(key)\" must be a number")
                }
                return n.doubleValue
            }
            func integer(_ key: String, required: Bool) throws -> Int? {
                guard let v = try number(key) else {
                    if required { throw ObjectiveError("\(at): a \(type) term needs \"\(key)\"") }
                    return nil
                }
                guard v == v.rounded(), v >= 0, v <= Double(1 << 24) else { throw ObjectiveError("\(at): \"\(key)\" must be a whole number ≥ 0") }
                return Int(v)
            }
            var layer: String?
            if let v = t["layer"] {
                guard let s = v as? String, !s.isEmpty else { throw ObjectiveError("\(at): \"layer\" must be a layer's name") }
                layer = s
            }
            let weight = Float(try number("weight") ?? 1)
            switch type {
            case "channel": return (weight, .channel(layer: layer, channel: try integer("channel", required: true)!))
            case "neuron":
                let (y, x) = (try integer("y", required: false), try integer("x", required: false))
                guard (y == nil) == (x == nil) else { throw ObjectiveError("\(at): give both \"y\" and \"x\", or neither (the centre)") }
                return (weight, .neuron(layer: layer, channel: try integer("channel", required: true)!, y: y, x: x))
            case "direction":
                var weights: [Int: Float] = [:]
                if let v = t["vector"] as? [Any] {
                    for (c, w) in v.enumerated() {
                        guard let n = w as? NSNumber, n.doubleValue.isFinite else { throw ObjectiveError("\(at): \"vector\" holds a value that is not a number") }
                        if n.floatValue != 0 { weights[c] = n.floatValue }
                    }
                } else if let v = t["vector"] as? [String: Any] {
                    for (key, w) in v {
                        guard let c = Int(key), c >= 0, let n = w as? NSNumber, n.doubleValue.isFinite else {
                            throw ObjectiveError("\(at): \"vector\" maps channel numbers to weights, e.g. {\"12\": 1, \"40\": -0.5}")
                        }
                        weights[c] = n.floatValue
                    }
                } else {
                    throw ObjectiveError("\(at): a direction term needs \"vector\": C numbers, or {\"channel\": weight}")
                }
                return (weight, .direction(layer: layer, weights: weights))
            case "diversity": return (weight, .diversity(layer: layer))
            case "l2": return (weight, layer == nil ? .l2 : .layerNorm(layer: layer))
            default: return (weight, .totalVariation)
            }
        })
    }
}
