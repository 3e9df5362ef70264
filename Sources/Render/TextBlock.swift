/// Lines of text as a figure: a caption block, a legend or a small table of key: value lines under `Panels`.
public struct TextBlock: Figure {
    public var lines: [String]
    public var title: String?
    /// Font size of the lines.
    public var fontSize: Double = Style.labelSize

    /// A block of text lines.
    public init(_ lines: [String], title: String? = nil) {
        self.lines = lines
        self.title = title
    }

    private var lineStep: Double { TextMetrics.lineHeight(size: fontSize) * 1.25 }
    private var titleH: Double { title == nil ? 0 : TextMetrics.lineHeight(size: Style.subtitleSize) + 6 }

    public var size: Size {
        let w = max(lines.map { TextMetrics.width($0, size: fontSize) }.max() ?? 0,
                    title.map { TextMetrics.width($0, size: Style.subtitleSize, bold: true) } ?? 0)
        return Size(width: (w + 2 * Style.margin).rounded(.up),
                    height: (2 * Style.margin + titleH + Double(lines.count) * lineStep).rounded(.up))
    }

    public var pageBreaks: [Double] {
        lines.indices.dropFirst().map { Style.margin + titleH + Double($0) * lineStep }
    }

    public func draw(_ c: Canvas) {
        if let title { c.text(title, x: Style.margin, y: Style.margin, size: Style.subtitleSize, bold: true, baseline: .top) }
        for (i, line) in lines.enumerated() {
            c.text(line, x: Style.margin, y: Style.margin + titleH + Double(i) * lineStep, size: fontSize, baseline: .top)
        }
    }
}
