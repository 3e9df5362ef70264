/// A 256-entry RGB8 lookup table that turns a scalar into a colour.
///
/// The tables are exact copies of matplotlib's and OpenCV's (see `Scripts/make_colormaps.py`), so a map rendered
/// here matches the same map rendered by matplotlib, cv2 or pytorch-grad-cam byte for byte.
public struct Colormap: Sendable, Equatable {
    /// The name `named(_:)` accepts, e.g. "viridis".
    public let name: String
    /// (256, 3) RGB8 rows; row i is the colour of index i.
    public let table: [UInt8]

    /// Wraps a custom table.
    /// - Parameters:
    ///   - name: a label for captions and errors.
    ///   - table: (256, 3) RGB8 rows.
    public init(name: String, table: [UInt8]) {
        precondition(table.count == 256 * 3, "Colormap '\(name)': table has \(table.count) values, expected (256, 3) = 768")
        self.name = name
        self.table = table
    }

    /// Every built-in name, in a stable order.
    public static let names: [String] = tables.map(\.name)

    /// Looks a built-in map up by name (case-insensitive; "RdBu_r" is accepted for "rdbu").
    /// - Parameters:
    ///   - name: one of `Colormap.names`.
    /// - Throws: `RenderError.unknownColormap`, whose message lists the names.
    public static func named(_ name: String) throws -> Colormap {
        var key = name.lowercased()
        if key == "rdbu_r" { key = "rdbu" }
        if key == "grey" { key = "gray" }
        guard let entry = tables.first(where: { $0.name == key }) else {
            throw RenderError.unknownColormap(name, known: names)
        }
        return Colormap(name: entry.name, table: entry.table)
    }

    /// The colour at a table index.
    /// - Parameters:
    ///   - index: 0 ... 255.
    @inlinable
    public func rgb(index: UInt8) -> (UInt8, UInt8, UInt8) {
        let i = Int(index) * 3
        return (table[i], table[i + 1], table[i + 2])
    }

    /// The colour of a value in [0, 1], quantised as pytorch-grad-cam does (`np.uint8(255 * mask)`, truncating).
    /// - Parameters:
    ///   - t: the value; clamped to [0, 1], NaN maps to 0.
    @inlinable
    public func rgb(_ t: Float) -> (UInt8, UInt8, UInt8) {
        rgb(index: Colormap.index(t))
    }

    /// The table index of a value in [0, 1]: `UInt8(clamp(t, 0, 1) * 255)`, truncated; NaN gives 0.
    @inlinable
    public static func index(_ t: Float) -> UInt8 {
        guard t > 0 else { return 0 }  // also catches NaN
        return t >= 1 ? 255 : UInt8(t * 255)
    }

    /// True for maps meant for signed data (a light middle between two hues).
    public var isDiverging: Bool { name == "rdbu" || name == "coolwarm" }

    // Built-ins as static members, for call sites that need no error handling.
    public static let viridis = builtin("viridis")
    public static let magma = builtin("magma")
    public static let inferno = builtin("inferno")
    public static let plasma = builtin("plasma")
    public static let cividis = builtin("cividis")
    public static let jet = builtin("jet")
    public static let turbo = builtin("turbo")
    public static let gray = builtin("gray")
    public static let rdbu = builtin("rdbu")
    public static let coolwarm = builtin("coolwarm")

    private static func builtin(_ name: String) -> Colormap {
        guard let entry = tables.first(where: { $0.name == name }) else { fatalError("no built-in colormap '\(name)'") }
        return Colormap(name: name, table: entry.table)
    }
}
