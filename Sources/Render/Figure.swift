/// A drawable value with a fixed size in points: TileGrid, Overlay, MatrixPlot, Panels, ...
///
/// A figure lays itself out from its own fields, reports its size, and draws into a `Canvas` whose origin is its
/// top-left corner. `FigureWriter` turns any figure into PNG, JPEG, SVG or PDF; `Panels` places figures side by side.
public protocol Figure {
    /// The page size in points (1/72 inch).
    var size: Size { get }
    /// Draws the figure in the rectangle (0, 0) ... `size`.
    func draw(_ c: Canvas)
    /// Heights (points from the top) where a page may end without cutting through a row of tiles or a line of
    /// text, for figures too tall for one page; none by default (a page then ends where it must).
    var pageBreaks: [Double] { get }
}

extension Figure {
    public var pageBreaks: [Double] { [] }
}

/// A width and height in points.
public struct Size: Sendable, Equatable {
    public var width: Double
    public var height: Double
    public init(width: Double, height: Double) { self.width = width; self.height = height }
}

/// An axis-aligned rectangle in points; y grows downwards.
public struct Rect: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }
}

/// An RGB colour with components in [0, 1].
public struct Color: Sendable, Equatable {
    public var r: Double, g: Double, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }
    /// A colour from 8-bit components.
    public init(bytes: (UInt8, UInt8, UInt8)) {
        self.init(Double(bytes.0) / 255, Double(bytes.1) / 255, Double(bytes.2) / 255)
    }
    public static let black = Color(0, 0, 0)
    public static let white = Color(1, 1, 1)
    /// Body text and axes.
    public static let ink = Color(0.13, 0.13, 0.13)
    /// Secondary text such as tick labels.
    public static let muted = Color(0.35, 0.35, 0.35)
    /// Hairlines and frames.
    public static let rule = Color(0.75, 0.75, 0.75)

    /// Relative luminance (Rec. 601 weights), 0 = black, 1 = white.
    public var luminance: Double { 0.299 * r + 0.587 * g + 0.114 * b }
    /// Black or white, whichever reads better on top of this colour.
    public var contrastingText: Color { luminance > 0.5 ? Color(0.05, 0.05, 0.05) : .white }
}

/// The type sizes and spacing all figures share, so pages composed with `Panels` look like one family.
public enum Style {
    /// Page margin around a figure, in points.
    public static let margin: Double = 12
    /// Figure titles.
    public static let titleSize: Double = 14
    /// Panel titles inside `Panels`.
    public static let subtitleSize: Double = 11
    /// Axis labels, captions.
    public static let labelSize: Double = 10
    /// Tick labels.
    public static let tickSize: Double = 8
    /// Space between a title and what it names.
    public static let titleGap: Double = 8
    /// Width of a colorbar's colour strip.
    public static let colorbarWidth: Double = 12
    /// The widest a title makes its page; a longer title is shrunk, then cut with "…", to the page.
    public static let maxTitleWidth: Double = 1600

    /// The page width a figure title asks for: its width plus margins, at most `maxTitleWidth`; 0 without one.
    public static func titleWidth(_ title: String?) -> Double {
        title.map { min(TextMetrics.width($0, size: titleSize, bold: true) + 2 * margin, maxTitleWidth) } ?? 0
    }
}
